//! Bodies kept once per plan revision (the API's systems list and findings), as they are and
//! compressed ahead of time with brotli and gzip: serving one is a reference count and a
//! header, whichever the client accepts, instead of a copy of megabytes and a compression per
//! request.

use std::io::Write;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One body in each encoding.
pub struct Encoded {
    identity: Bytes,
    br: Bytes,
    gzip: Bytes,
}

/// Brotli quality and gzip level: done once per revision, so better than the per-request
/// layer's (brotli 4), yet a 1.7 MB list still takes well under a second.
const BROTLI_QUALITY: u32 = 6;
const GZIP_LEVEL: u32 = 6;

impl Encoded {
    pub fn new(body: Vec<u8>) -> Encoded {
        let mut br = Vec::with_capacity(body.len() / 8);
        {
            let mut writer = brotli::CompressorWriter::new(&mut br, 64 * 1024, BROTLI_QUALITY, 22);
            // Writing to memory cannot fail.
            let _ = writer.write_all(&body);
        }
        let mut gzip = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 6),
            flate2::Compression::new(GZIP_LEVEL),
        );
        let _ = gzip.write_all(&body);
        let gzip = gzip.finish().unwrap_or_default();
        Encoded {
            identity: Bytes::from(body),
            br: Bytes::from(br),
            gzip: Bytes::from(gzip),
        }
    }

    /// The body in the encoding the request's `Accept-Encoding` prefers (brotli, then gzip,
    /// then none), as `content_type`.
    pub fn response(&self, request: &HeaderMap, content_type: &'static str) -> Response {
        let (coding, body) = match preferred(request) {
            Some("br") => (Some("br"), self.br.clone()),
            Some("gzip") => (Some("gzip"), self.gzip.clone()),
            _ => (None, self.identity.clone()),
        };
        let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }
}

/// `br` or `gzip` when the client accepts it (a q-value above 0), brotli first.
fn preferred(request: &HeaderMap) -> Option<&'static str> {
    let accepted: Vec<(String, f32)> = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            (coding, q)
        })
        .collect();
    let q = |name: &str| {
        accepted
            .iter()
            .find(|(c, _)| c == name)
            .or_else(|| accepted.iter().find(|(c, _)| c == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let (br, gzip) = (q("br"), q("gzip"));
    if br > 0.0 && br >= gzip {
        Some("br")
    } else if gzip > 0.0 {
        Some("gzip")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_client_gets_the_encoding_it_prefers() {
        assert_eq!(preferred(&accepting("gzip, deflate, br, zstd")), Some("br"));
        assert_eq!(preferred(&accepting("gzip")), Some("gzip"));
        assert_eq!(preferred(&accepting("br;q=0.5, gzip")), Some("gzip"));
        assert_eq!(preferred(&accepting("br;q=0, gzip;q=0")), None);
        assert_eq!(preferred(&accepting("identity")), None);
        assert_eq!(preferred(&accepting("*")), Some("br"));
        assert_eq!(preferred(&HeaderMap::new()), None);
    }

    #[test]
    fn each_encoding_holds_the_same_body() {
        let body = "{\"id\": \"æøå\"}".repeat(1000).into_bytes();
        let encoded = Encoded::new(body.clone());
        let mut gunzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&encoded.gzip[..]),
            &mut gunzipped,
        )
        .unwrap();
        assert_eq!(gunzipped, body);
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &encoded.br[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, body);
        assert!(encoded.br.len() * 10 < body.len());
    }
}
