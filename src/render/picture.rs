//! The dependency picture: the plan's dependency graph as SVG, drawn on the server in layers from
//! left to right (a system stands one column right of the deepest thing it depends on), each
//! system a box coloured by criticality, outlined in red when it has a finding and linked to its
//! page; or, for a chosen system, the part of the graph it depends on and that depends on it.
//!
//! The layout is the classic layered one (longest-path layers, then a few barycentre sweeps to
//! untangle the order within each layer), written here because the layout crate tried
//! (`layout-rs`) drew the 36-system example plan 5,673 × 2,626 px, too spread out to read. The
//! columns share the width of a page (names wrap, whole, to the width of their box), and the
//! page scales the picture down only when it has more columns than fit; beside it,
//! `neighbourhoods` gives the same graph as a list for a phone and a screen reader.

use std::collections::{HashMap, HashSet, VecDeque};

use handlebars::html_escape;

use crate::domain::{Finding, Plan, System, SystemId};

/// Fill colours of criticality 1–4, light enough for black text.
const FILL: [&str; 4] = ["#f4c7c9", "#f6d8b8", "#dde3e9", "#f3f4f6"];
/// The width the picture is laid out for: the page's content box on a desktop screen. Columns
/// share it, so a deep plan gets narrower boxes with names over more lines, not a wider picture.
const TARGET_W: usize = 1100;
/// The width of a box: as wide as the columns allow, within these bounds.
const MIN_BOX_W: usize = 120;
const MAX_BOX_W: usize = 200;
/// Between two columns: room for the curves and their arrowheads.
const GAP: usize = 24;
/// Between two rows.
const ROW_GAP: usize = 12;
const MARGIN: usize = 8;
/// Lines of a box: the name's (12 px, semibold) and the RTO's below them.
const NAME_LINE: usize = 15;
const PAD: usize = 7;
/// The widest a character of the name's font is taken to be, in tenths of a pixel: generous, so
/// a wrapped line stays inside its box in any sans-serif the reader has.
const CHAR_W_TENTHS: usize = 80;
/// Barycentre sweeps over the layers; a handful settles small plans.
const SWEEPS: usize = 4;

/// The systems shown: all, or `focus` with everything it depends on and everything that
/// depends on it (directly or not). `None` when `focus` is not a system of the plan.
pub fn shown<'p>(plan: &'p Plan, focus: Option<&str>) -> Option<Vec<&'p System>> {
    let Some(focus) = focus else {
        return Some(plan.systems.iter().collect());
    };
    plan.system(focus)?;
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in &plan.systems {
        for d in &s.depends_on {
            dependents
                .entry(d.as_str())
                .or_default()
                .push(s.id.as_str());
        }
    }
    let mut keep: HashSet<&str> = HashSet::from([focus]);
    // Down through what it depends on, then up through what depends on it.
    for up in [false, true] {
        let mut queue = VecDeque::from([focus]);
        while let Some(id) = queue.pop_front() {
            let next: Vec<&str> = if up {
                dependents.get(id).cloned().unwrap_or_default()
            } else {
                plan.system(id)
                    .map(|s| s.depends_on.iter().map(SystemId::as_str).collect())
                    .unwrap_or_default()
            };
            for n in next {
                if plan.system(n).is_some() && keep.insert(n) {
                    queue.push_back(n);
                }
            }
        }
    }
    Some(
        plan.systems
            .iter()
            .filter(|s| keep.contains(s.id.as_str()))
            .collect(),
    )
}

/// A name in lines of at most `chars` characters, broken between words; a word longer than a
/// line is broken after a hyphen or a slash in it if it has one, else inside it with a hyphen
/// added. Every character of the name stays, so no name is cut off.
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let chars = chars.max(4);
    let mut pieces: Vec<(String, bool)> = Vec::new(); // (piece, a space before it)
    for word in text.split_whitespace() {
        let mut first = true;
        let mut rest: Vec<char> = word.chars().collect();
        while rest.len() > chars {
            // After the last hyphen or slash that leaves a piece that fits; else before the last
            // consonant that starts a syllable (one followed by a vowel: virtualise-ring),
            // with a hyphen; else where the line ends.
            let vowel = |c: char| "aeiouyæøåéAEIOUYÆØÅÉ".contains(c);
            let cut = rest[..chars]
                .iter()
                .rposition(|c| matches!(c, '-' | '/'))
                .filter(|&at| at >= 2)
                .map(|at| (at + 1, false))
                .or_else(|| {
                    (3..chars - 1)
                        .rev()
                        .find(|&at| {
                            rest[at].is_alphabetic()
                                && !vowel(rest[at])
                                && rest.get(at + 1).is_some_and(|c| vowel(*c))
                                && rest.len() - at >= 3
                        })
                        .map(|at| (at, true))
                })
                .unwrap_or((chars - 1, true));
            let tail = rest.split_off(cut.0);
            let mut piece: String = rest.into_iter().collect();
            if cut.1 {
                piece.push('-');
            }
            pieces.push((piece, first));
            first = false;
            rest = tail;
        }
        pieces.push((rest.into_iter().collect(), first));
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for (piece, spaced) in pieces {
        let len = line.chars().count();
        let joined = len + usize::from(spaced) + piece.chars().count();
        if len > 0 && joined > chars {
            lines.push(std::mem::take(&mut line));
        } else if len > 0 && spaced {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Each system's neighbourhood, for the list beside the picture (on a phone, instead of it): what
/// it depends on and what depends on it, by name, sorted as a Danish reader expects. `name_href`
/// gives the link of a system's name; its neighbours link to their own entry of the list.
pub fn neighbourhoods(
    systems: &[&System],
    name_href: &dyn Fn(&str) -> String,
) -> serde_json::Value {
    let shown: HashMap<&str, &System> = systems.iter().map(|s| (s.id.as_str(), *s)).collect();
    let name = |id: &str| {
        shown
            .get(id)
            .map_or(id.to_string(), |s| shown_name(s).to_string())
    };
    let mut needed_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in systems {
        for d in &s.depends_on {
            if shown.contains_key(d.as_str()) {
                needed_by.entry(d.as_str()).or_default().push(s.id.as_str());
            }
        }
    }
    let entries = |ids: Vec<&str>| {
        let mut ids = ids;
        ids.sort_by_cached_key(|id| super::i18n::sort_key(&name(id)));
        ids.into_iter()
            .map(|id| serde_json::json!({"id": id, "name": name(id)}))
            .collect::<Vec<_>>()
    };
    let mut sorted: Vec<&System> = systems.to_vec();
    sorted.sort_by_cached_key(|s| super::i18n::sort_key(shown_name(s)));
    serde_json::Value::Array(
        sorted
            .into_iter()
            .map(|s| {
                let id = s.id.as_str();
                serde_json::json!({
                    "id": id,
                    "name": shown_name(s),
                    "href": name_href(id),
                    "depends_on": entries(
                        s.depends_on
                            .iter()
                            .map(SystemId::as_str)
                            .filter(|d| shown.contains_key(d))
                            .collect()
                    ),
                    "needed_by": entries(needed_by.get(id).cloned().unwrap_or_default()),
                })
            })
            .collect(),
    )
}

/// The name a system is shown by: its name, or its id when it has none.
fn shown_name(s: &System) -> &str {
    if s.name.trim().is_empty() {
        s.id.as_str()
    } else {
        s.name.as_str()
    }
}

/// The column of each system: 0 for one that depends on nothing shown, else one more than the
/// deepest thing it depends on. A dependency cycle (an error the analysis reports) is cut where
/// the walk meets it again.
fn layers(systems: &[&System], index: &HashMap<&str, usize>) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    const WALKING: usize = usize::MAX - 1;
    let mut layer = vec![UNSEEN; systems.len()];
    for root in 0..systems.len() {
        if layer[root] != UNSEEN {
            continue;
        }
        // Iterative depth-first walk: (system, next dependency to look at).
        let mut stack = vec![(root, 0usize)];
        layer[root] = WALKING;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            let deps = &systems[v].depends_on;
            if let Some(d) = deps.get(*next) {
                *next += 1;
                if let Some(&w) = index.get(d.as_str())
                    && layer[w] == UNSEEN
                {
                    layer[w] = WALKING;
                    stack.push((w, 0));
                }
                continue;
            }
            let depth = deps
                .iter()
                .filter_map(|d| index.get(d.as_str()))
                .filter(|&&w| layer[w] < WALKING)
                .map(|&w| layer[w] + 1)
                .max()
                .unwrap_or(0);
            layer[v] = depth;
            stack.pop();
        }
    }
    layer
}

/// The picture of `systems` (of one plan) as an SVG element to put inline in a page, named by
/// `title`. `findings` mark the systems they concern; `focus` is drawn bold. `link` gives each
/// system's page, or nothing in a file read away from the server.
pub fn svg(
    systems: &[&System],
    findings: &[Finding],
    focus: Option<&str>,
    title: &str,
    link: Option<&dyn Fn(&str) -> String>,
    lang: &str,
) -> String {
    if systems.is_empty() {
        return String::new();
    }
    let flagged: HashSet<&str> = findings
        .iter()
        .filter_map(|f| f.system().map(SystemId::as_str))
        .collect();
    let index: HashMap<&str, usize> = systems
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let layer = layers(systems, &index);
    let columns = layer.iter().max().map_or(1, |m| m + 1);
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, &l) in layer.iter().enumerate() {
        order[l].push(i);
    }
    let deps: Vec<Vec<usize>> = systems
        .iter()
        .map(|s| {
            s.depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); systems.len()];
    for (v, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(v);
        }
    }
    // Untangle: order each column by the mean row of its neighbours in the column before (left
    // to right), then in the column after (right to left).
    let mut row = vec![0usize; systems.len()];
    let place = |order: &Vec<Vec<usize>>, row: &mut Vec<usize>| {
        for column in order {
            for (r, &v) in column.iter().enumerate() {
                row[v] = r;
            }
        }
    };
    place(&order, &mut row);
    for sweep in 0..SWEEPS {
        let forward = sweep % 2 == 0;
        let range: Vec<usize> = if forward {
            (1..columns).collect()
        } else {
            (0..columns.saturating_sub(1)).rev().collect()
        };
        for c in range {
            let neighbours = if forward { &deps } else { &dependents };
            let mut keyed: Vec<(f64, usize, usize)> = order[c]
                .iter()
                .map(|&v| {
                    let rows: Vec<usize> = neighbours[v]
                        .iter()
                        .filter(|&&n| layer[n] != c)
                        .map(|&n| row[n])
                        .collect();
                    let key = if rows.is_empty() {
                        row[v] as f64
                    } else {
                        rows.iter().sum::<usize>() as f64 / rows.len() as f64
                    };
                    (key, row[v], v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            order[c] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (r, &v) in order[c].iter().enumerate() {
                row[v] = r;
            }
        }
    }
    // The columns share the target width; the names wrap to the boxes' width.
    let box_w = (TARGET_W.saturating_sub(MARGIN * 2 + (columns - 1) * GAP) / columns)
        .clamp(MIN_BOX_W, MAX_BOX_W);
    let per_line = (box_w - PAD * 2) * 10 / CHAR_W_TENTHS;
    let names: Vec<Vec<String>> = systems
        .iter()
        .map(|s| wrap(shown_name(s), per_line))
        .collect();
    // Each box as tall as its name needs; each column stacked and centred against the tallest.
    let box_h: Vec<usize> = names
        .iter()
        .map(|n| PAD + n.len() * NAME_LINE + 16)
        .collect();
    let mut tops = vec![0usize; systems.len()];
    let stacked: Vec<usize> = order
        .iter()
        .map(|column| {
            let mut y = 0;
            for &v in column {
                tops[v] = y;
                y += box_h[v] + ROW_GAP;
            }
            y.saturating_sub(ROW_GAP)
        })
        .collect();
    let tallest = stacked.iter().copied().max().unwrap_or(0);
    let column = box_w + GAP;
    let top = |v: usize| MARGIN + (tallest - stacked[layer[v]]) / 2 + tops[v];
    let left = |v: usize| MARGIN + layer[v] * column;
    let width = MARGIN * 2 + (columns - 1) * column + box_w;
    let height = MARGIN * 2 + tallest;
    let title = html_escape(title);
    // With links inside it is a group of links, not an image (an image's parts are not
    // interactive); without, an image named by its title.
    let role = if link.is_some() { "group" } else { "img" };
    let mut out = format!(
        r##"<svg class="picture" role="{role}" aria-label="{title}" viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{title}</title>"##
    );
    out.push_str(r##"<g fill="none" stroke="#8c959f" stroke-width="1.3">"##);
    for (v, ds) in deps.iter().enumerate() {
        for &d in ds {
            let (x1, y1) = (left(d) + box_w, top(d) + box_h[d] / 2);
            let (x2, y2) = (left(v), top(v) + box_h[v] / 2);
            let (c1, c2) = if x2 > x1 {
                let bend = (x2 - x1) / 2;
                (x1 + bend, x2 - bend)
            } else {
                (x1 + 40, x2.saturating_sub(40))
            };
            // The curve ends level, so its arrowhead points right.
            out.push_str(&format!(
                r##"<path d="M{x1} {y1}C{c1} {y1} {c2} {y2} {x2} {y2}"/><path d="M{x2} {y2}l-7 -4v8z" fill="#57606a" stroke="none"/>"##
            ));
        }
    }
    out.push_str("</g>");
    for (v, s) in systems.iter().enumerate() {
        let id = s.id.as_str();
        let fill = FILL[usize::from(s.criticality.level().clamp(1, 4) - 1)];
        let (stroke, width) = match (flagged.contains(id), focus == Some(id)) {
            (true, true) => ("#cf222e", 4),
            (true, false) => ("#cf222e", 3),
            (false, true) => ("#1f2328", 4),
            (false, false) => ("#57606a", 1),
        };
        let (x, y) = (left(v), top(v));
        let name = shown_name(s);
        let rto = s
            .rto
            .map(|r| format!("RTO {}", super::i18n::duration(r, lang)))
            .unwrap_or_default();
        let tx = x + PAD;
        let mut label = String::new();
        for (n, line) in names[v].iter().enumerate() {
            label.push_str(&format!(
                r##"<text x="{tx}" y="{ty}" font-size="12" font-weight="600">{line}</text>"##,
                ty = y + PAD + 10 + n * NAME_LINE,
                line = html_escape(line),
            ));
        }
        let node = format!(
            r##"<g class="system" id="dep-{id}"><title>{full} ({id}){sep}{rto}</title><rect x="{x}" y="{y}" width="{box_w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>{label}<text x="{tx}" y="{ty2}" font-size="11" fill="#424a53">{rto}</text></g>"##,
            full = html_escape(name),
            sep = if rto.is_empty() { "" } else { " · " },
            rto = html_escape(&rto),
            h = box_h[v],
            ty2 = y + box_h[v] - 7,
        );
        match link {
            Some(link) => out.push_str(&format!(
                r#"<a href="{}">{node}</a>"#,
                html_escape(&link(id))
            )),
            None => out.push_str(&node),
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn a_name_wraps_between_words_and_keeps_every_character() {
        let name = "NemLog-in og MitID Erhverv (brugerstyring og føderation)";
        let lines = wrap(name, 14);
        assert!(lines.iter().all(|l| l.chars().count() <= 14), "{lines:?}");
        assert_eq!(lines.join(" "), name);
        assert_eq!(wrap("AD", 14), vec!["AD"]);
    }

    #[test]
    fn a_word_longer_than_a_line_breaks_after_its_hyphen_or_inside_it_with_one() {
        assert_eq!(
            wrap("eksempel-kommune.dk (hjemmeside)", 13),
            vec!["eksempel-", "kommune.dk", "(hjemmeside)"]
        );
        assert_eq!(
            wrap("Virtualiseringsplatform", 13),
            vec!["Virtualise-", "ringsplatform"]
        );
        assert_eq!(
            wrap("Xxxxxxxxxxxxxxxxxx", 10),
            vec!["Xxxxxxxxx-", "xxxxxxxxx"]
        );
    }
}
