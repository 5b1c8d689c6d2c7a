//! Text messages without I/O: phone numbers as E.164 (`+4512345678`; a Danish number written
//! without its country code gets +45), and texts in the GSM 7-bit alphabet (GSM 03.38, which
//! has æ, ø and å) cut into the parts a phone puts back together: 160 characters in one
//! message, 153 in each part of a longer one, characters of the extension table counting two
//! and never split from their escape. A text that needs other characters is sent as UCS-2
//! (70, or 67 per part).

/// The basic GSM 7-bit alphabet, by code point order.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each costs two septets (escape and the character).
const EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// A phone number as E.164 (`+` and up to 15 digits), from what a plan writes: spaces, dashes,
/// dots and brackets are dropped, `00` becomes `+`, and eight digits without a country code are
/// a Danish number (+45). `None` for anything else: letters, too few or too many digits.
pub fn e164(written: &str) -> Option<String> {
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in written.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => plus = true,
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if digits.len() == 8 {
        format!("45{digits}")
    } else {
        return None;
    };
    let danish_ok = !international.starts_with("45") || international.len() == 10;
    ((8..=15).contains(&international.len()) && !international.starts_with('0') && danish_ok)
        .then(|| format!("+{international}"))
}

/// Septets a character takes in the GSM 7-bit alphabet; `None` outside it.
fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// How a text is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Whether it fits the GSM 7-bit alphabet (else UCS-2).
    pub gsm7: bool,
    /// The parts, in order; one for a text that fits a single message.
    pub parts: Vec<String>,
}

/// `text` cut into the parts of a concatenated message, never inside a character's septets.
pub fn encode(text: &str) -> Encoded {
    let gsm7 = is_gsm7(text);
    let (single, each) = if gsm7 { (160, 153) } else { (70, 67) };
    let cost = |c: char| {
        if gsm7 {
            septets(c).unwrap_or(1)
        } else {
            c.len_utf16()
        }
    };
    let total: usize = text.chars().map(cost).sum();
    if total <= single {
        return Encoded {
            gsm7,
            parts: vec![text.to_string()],
        };
    }
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + cost(c) > each {
            parts.push(std::mem::take(&mut part));
            used = 0;
        }
        used += cost(c);
        part.push(c);
    }
    parts.push(part);
    Encoded { gsm7, parts }
}

/// Whether `text` is written in the GSM 7-bit alphabet (else it goes as UCS-2).
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| septets(c).is_some())
}

/// The septets (GSM 7-bit) or UTF-16 units (UCS-2) of `text`.
pub fn length(text: &str) -> usize {
    if is_gsm7(text) {
        text.chars().filter_map(septets).sum()
    } else {
        text.encode_utf16().count()
    }
}

/// `text` with the typographic characters that titles and notes are often written with (dashes,
/// curly quotes, "…", non-breaking spaces) replaced by their GSM 7-bit look-alikes: one such
/// character would otherwise send the whole text as UCS-2, where a message holds 70 characters
/// instead of 160.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{00B4}' | '\u{2032}' => {
                out.push('\'')
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' | '\u{2033}' => {
                out.push('"')
            }
            '\u{2026}' => out.push_str("..."),
            '\u{00A0}' | '\u{2007}' | '\u{2009}' | '\u{202F}' => out.push(' '),
            '\u{2022}' | '\u{00B7}' => out.push('*'),
            c => out.push(c),
        }
    }
    out
}

/// A message of `lead` and `link`, the link last and whole, within one message when it can be:
/// `lead` is made plain (`plain`) and shortened (ending in `...` when it was) so that lead, a
/// space and the link fit 160 septets, or 70 characters when the lead still holds a character
/// outside the GSM alphabet (an emoji, say); with a link too long for that, the whole text goes
/// as a longer message, which the gateway sends in parts.
pub fn with_link(lead: &str, link: &str) -> String {
    let lead = plain(lead.trim());
    let single: usize = if is_gsm7(&lead) && is_gsm7(link) {
        160
    } else {
        70
    };
    let budget = single.saturating_sub(length(link) + 1);
    if length(&lead) <= budget || budget < 20 {
        return format!("{lead} {link}");
    }
    // "…" is outside the GSM alphabet: end a shortened lead with "..." instead.
    let mut short = String::new();
    for c in lead.chars() {
        short.push(c);
        if length(&short) + 3 > budget {
            short.pop();
            break;
        }
    }
    format!("{}... {link}", short.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164_and_danish_ones_get_45() {
        assert_eq!(e164("12 34 56 78").as_deref(), Some("+4512345678"));
        assert_eq!(e164("+45 1234-5678").as_deref(), Some("+4512345678"));
        assert_eq!(e164("0045 12345678").as_deref(), Some("+4512345678"));
        assert_eq!(e164("+46 70 123 45 67").as_deref(), Some("+46701234567"));
        assert_eq!(
            e164("(+45) 12.34.56.78"),
            None,
            "a + inside is not a country code"
        );
        assert_eq!(e164("1234 567"), None, "seven digits");
        assert_eq!(
            e164("+45 1234 567"),
            None,
            "a Danish number has eight digits"
        );
        assert_eq!(e164("ring til vagten"), None);
        assert_eq!(e164(""), None);
        assert_eq!(e164("+1234567890123456"), None, "more than 15 digits");
    }

    #[test]
    fn danish_letters_are_gsm_and_texts_split_where_phones_join_them() {
        let one = "Beredskab: AD er nede på rådhuset. Mød i krisestaben, Ærøvej 1.";
        assert_eq!(
            encode(one),
            Encoded {
                gsm7: true,
                parts: vec![one.to_string()]
            }
        );
        let long = "ø".repeat(200);
        let parts = encode(&long).parts;
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [153, 47]
        );
        // A character of the extension table counts two and is never split from its escape.
        let euro = format!("{}€", "a".repeat(152));
        let parts = encode(&euro).parts;
        assert_eq!(length(&euro), 154);
        assert_eq!(parts, [euro], "154 septets fit one message");
        let euro = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let parts = encode(&euro).parts;
        assert_eq!(
            parts[0],
            "a".repeat(152),
            "the € goes whole into the next part"
        );
        assert!(parts[1].starts_with('€'));
        // Outside the alphabet: UCS-2, 70 a message.
        let emoji = "Ransomware 🔒 på filserverne";
        assert!(!encode(emoji).gsm7);
        assert_eq!(encode(&"ł".repeat(71)).parts.len(), 2);
    }

    #[test]
    fn the_link_goes_last_and_whole() {
        let link = "https://beredskab.kommune.dk/k/3f9a2c4e8b1d7f6a";
        let text = with_link("Varsel: AD er nede", link);
        assert_eq!(text, format!("Varsel: AD er nede {link}"));
        let lead = format!("Varsel: {}", "Meget lang titel på hændelsen ".repeat(8));
        let text = with_link(&lead, link);
        assert!(text.ends_with(&format!("... {link}")), "{text}");
        assert!(length(&text) <= 160, "{}", length(&text));
        assert_eq!(encode(&text).parts.len(), 1);
    }

    #[test]
    fn typographic_characters_keep_a_text_in_one_gsm_message() {
        let link = "https://beredskab.kommune.dk/k/3f9a2c4e8b1d7f6a";
        let text = with_link("Varsel: “AD” nede – kl. 03.10 … ring 7236 4102", link);
        assert_eq!(
            text,
            format!("Varsel: \"AD\" nede - kl. 03.10 ... ring 7236 4102 {link}")
        );
        assert!(encode(&text).gsm7);
        // A long title with a dash stays one 7-bit message, not three UCS-2 parts.
        let lead = format!("Varsel: {}", "Lang titel – på hændelsen ".repeat(8));
        let text = with_link(&lead, link);
        let encoded = encode(&text);
        assert!(encoded.gsm7, "{text}");
        assert_eq!(encoded.parts.len(), 1, "{text}");
        assert!(text.ends_with(&format!("... {link}")));
    }

    #[test]
    fn a_text_that_must_be_ucs2_is_kept_to_70_characters() {
        let link = "https://beredskab.kommune.dk/k/3f9a2c4e8b1d7f6a";
        let lead = format!("Varsel 🔥: {}", "brand i serverrummet ".repeat(5));
        let text = with_link(&lead, link);
        let encoded = encode(&text);
        assert!(!encoded.gsm7);
        assert_eq!(encoded.parts.len(), 1, "{text}");
        assert!(length(&text) <= 70, "{}", length(&text));
        assert!(text.ends_with(&format!("... {link}")), "{text}");
    }
}
