//! The dependency picture: the plan's dependency graph as SVG, drawn on the server in layers from
//! left to right (a system stands one column right of the deepest thing it depends on), each
//! system a box coloured by criticality, outlined in red when it has a finding and linked to its
//! page; or, for a chosen system, the part of the graph it depends on and that depends on it.
//!
//! The layout is the classic layered one (longest-path layers, then a few barycentre sweeps to
//! untangle the order within each layer), written here because the layout crate tried
//! (`layout-rs`) drew the 36-system example plan 5,673 × 2,626 px, too spread out to read.

use std::collections::{HashMap, HashSet, VecDeque};

use handlebars::html_escape;

use crate::domain::{Finding, Plan, System, SystemId};

/// Fill colours of criticality 1–4, light enough for black text.
const FILL: [&str; 4] = ["#f4c7c9", "#f6d8b8", "#dde3e9", "#f3f4f6"];
const BOX_W: usize = 190;
const BOX_H: usize = 42;
const COLUMN: usize = BOX_W + 70;
const ROW: usize = BOX_H + 16;
const MARGIN: usize = 8;
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

/// A label cut to fit a box.
fn fit(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{cut}…")
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
    let rows = order.iter().map(Vec::len).max().unwrap_or(1);
    // Each column is centred against the tallest.
    let top = |v: usize| MARGIN + (rows - order[layer[v]].len()) * ROW / 2 + row[v] * ROW;
    let left = |v: usize| MARGIN + layer[v] * COLUMN;
    let width = MARGIN * 2 + (columns - 1) * COLUMN + BOX_W;
    let height = MARGIN * 2 + (rows - 1) * ROW + BOX_H;
    let title = html_escape(title);
    let mut out = format!(
        r##"<svg class="picture" role="img" aria-label="{title}" viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{title}</title>"##
    );
    out.push_str(r##"<g fill="none" stroke="#8c959f" stroke-width="1.3">"##);
    for (v, ds) in deps.iter().enumerate() {
        for &d in ds {
            let (x1, y1) = (left(d) + BOX_W, top(d) + BOX_H / 2);
            let (x2, y2) = (left(v), top(v) + BOX_H / 2);
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
        let name = if s.name.is_empty() {
            id
        } else {
            s.name.as_str()
        };
        let rto = s
            .rto
            .map(|r| format!(" · RTO {}", super::i18n::duration(r, lang)))
            .unwrap_or_default();
        let node = format!(
            r##"<g class="system" id="dep-{id}"><title>{full} ({id}){rto}</title><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/><text x="{tx}" y="{ty1}" font-size="13" font-weight="600">{name}</text><text x="{tx}" y="{ty2}" font-size="11" fill="#424a53">{id}{rto}</text></g>"##,
            full = html_escape(name),
            name = html_escape(&fit(name, 22)),
            rto = html_escape(&rto),
            tx = x + 8,
            ty1 = y + 17,
            ty2 = y + 33,
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
