//! Compressed ahead of time. Bodies kept once per plan revision (the API's systems list and
//! findings) are kept as they are and with brotli and gzip: serving one is a reference count
//! and a header, whichever the client accepts, instead of a copy of megabytes and a
//! compression per request. Pages spliced from a per-viewer shell and large cached pieces (the
//! overview's table, the runbook's body) are sent as one gzip stream in which each cached piece
//! was compressed once (`Deflated`) and only the small shell is compressed per request.

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

/// A piece of a page compressed once as raw DEFLATE that ends on a byte boundary (a sync
/// flush, no final block), with the CRC-32 of its text: such pieces, each compressed on its
/// own, can follow one another inside one DEFLATE stream (no piece refers back past its start),
/// which is how `pigz` compresses in parallel.
pub struct Deflated {
    bytes: Vec<u8>,
    crc: flate2::Crc,
}

impl Deflated {
    pub fn new(text: &[u8], level: u32) -> Deflated {
        let mut encoder = flate2::write::DeflateEncoder::new(
            Vec::with_capacity(text.len() / 6),
            flate2::Compression::new(level),
        );
        // Writing to memory cannot fail; `flush` is the sync flush that ends on a byte boundary.
        let _ = encoder.write_all(text);
        let _ = encoder.flush();
        let mut crc = flate2::Crc::new();
        crc.update(text);
        Deflated {
            bytes: std::mem::take(encoder.get_mut()),
            crc,
        }
    }
}

/// A piece of a spliced page: text of this request, or a piece compressed ahead of time.
pub enum Piece<'a> {
    Text(&'a str),
    Kept(&'a Deflated),
}

/// Level for what is compressed per request (the shell around the kept pieces) and once (the
/// pieces themselves).
const SHELL_LEVEL: u32 = 1;
pub const KEPT_LEVEL: u32 = 6;

/// The pieces, in order, as one gzip stream (RFC 1952): a header, the pieces' DEFLATE data, an
/// empty final block, the CRC-32 and length of the whole text.
pub fn spliced_gzip(pieces: &[Piece]) -> Vec<u8> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // BFINAL set, fixed Huffman codes, then the end-of-block code: an empty last block.
    const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];
    let mut out = HEADER.to_vec();
    let mut crc = flate2::Crc::new();
    for piece in pieces {
        let text;
        let deflated = match piece {
            Piece::Text(t) => {
                text = Deflated::new(t.as_bytes(), SHELL_LEVEL);
                &text
            }
            Piece::Kept(d) => *d,
        };
        out.extend_from_slice(&deflated.bytes);
        crc.combine(&deflated.crc);
    }
    out.extend_from_slice(&FINAL_BLOCK);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

/// Whether the client accepts gzip (a q-value above 0).
pub fn accepts_gzip(request: &HeaderMap) -> bool {
    quality(&accepted(request), "gzip") > 0.0
}

fn accepted(request: &HeaderMap) -> Vec<(String, f32)> {
    request
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
        .collect()
}

fn quality(accepted: &[(String, f32)], name: &str) -> f32 {
    accepted
        .iter()
        .find(|(c, _)| c == name)
        .or_else(|| accepted.iter().find(|(c, _)| c == "*"))
        .map_or(0.0, |(_, q)| *q)
}

/// `br` or `gzip` when the client accepts it (a q-value above 0), brotli first.
fn preferred(request: &HeaderMap) -> Option<&'static str> {
    let accepted = accepted(request);
    let (br, gzip) = (quality(&accepted, "br"), quality(&accepted, "gzip"));
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
    fn pieces_compressed_apart_make_one_gzip_stream_of_the_whole_text() {
        let table = "<tr><td>æøå</td></tr>".repeat(2000);
        let findings = "<li>RTO-inversion</li>".repeat(300);
        let (table_kept, findings_kept) = (
            Deflated::new(table.as_bytes(), KEPT_LEVEL),
            Deflated::new(findings.as_bytes(), KEPT_LEVEL),
        );
        let pieces = [
            Piece::Text("<html><body>"),
            Piece::Kept(&table_kept),
            Piece::Text("<p>mellem</p>"),
            Piece::Kept(&findings_kept),
            Piece::Text(""),
            Piece::Text("</body></html>"),
        ];
        let gzip = spliced_gzip(&pieces);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut text)
            .unwrap();
        assert_eq!(
            text,
            format!("<html><body>{table}<p>mellem</p>{findings}</body></html>")
        );
        assert!(
            gzip.len() * 20 < text.len(),
            "{} of {}",
            gzip.len(),
            text.len()
        );
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
