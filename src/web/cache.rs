//! Rendered pieces of pages, kept so that the same piece is rendered once: with the plan's
//! revision (`app::plans::PlanCache::kept_or`) or, for pieces not tied to one, in `Fragments`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::encoded::Deflated;

/// Most fragments kept apart from a plan revision; beyond it the set is dropped.
const MAX_FRAGMENTS: usize = 256;

/// A rendered piece of a page and how many rows it holds.
#[derive(Default)]
pub struct Fragment {
    pub html: String,
    pub rows: usize,
    /// Rows that match the filter, on every page together.
    pub matches: usize,
    /// The page shown, from 1; 0 when every row is.
    pub page: usize,
    /// `html` compressed, made when a client first asks for gzip.
    pub(super) deflated: std::sync::OnceLock<Deflated>,
}

impl Fragment {
    /// A piece that is only its HTML.
    pub fn of(html: String) -> Fragment {
        Fragment {
            html,
            ..Default::default()
        }
    }

    /// The HTML compressed once, to be spliced into a gzip stream.
    pub fn deflated(&self) -> &Deflated {
        self.deflated
            .get_or_init(|| Deflated::new(self.html.as_bytes(), super::encoded::KEPT_LEVEL))
    }
}

/// Rendered pieces of pages that are not tied to a plan revision (an incident's live part, an
/// approved version's runbook), by a key that names everything they show. Bounded: beyond
/// `MAX_FRAGMENTS` the set is dropped.
#[derive(Default)]
pub struct Fragments {
    map: Mutex<HashMap<String, Arc<Fragment>>>,
    /// Held while a missing fragment is rendered, so that it is rendered once.
    rendering: tokio::sync::Mutex<()>,
}

impl Fragments {
    /// The fragment under `key`, rendered by `render` if missing. One request renders; those
    /// that ask meanwhile (every client of an incident at a new minute) wait for it instead of
    /// each rendering the same page.
    pub async fn get_or_render<E, F>(
        &self,
        key: String,
        render: impl FnOnce() -> F,
    ) -> Result<Arc<Fragment>, E>
    where
        F: std::future::Future<Output = Result<String, E>>,
    {
        if let Some(fragment) = self.get(&key) {
            return Ok(fragment);
        }
        let _rendering = self.rendering.lock().await;
        if let Some(fragment) = self.get(&key) {
            return Ok(fragment);
        }
        let fragment = Arc::new(Fragment::of(render().await?));
        self.put(key, fragment.clone());
        Ok(fragment)
    }

    fn get(&self, key: &str) -> Option<Arc<Fragment>> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: String, fragment: Arc<Fragment>) {
        let mut map = self.lock();
        if map.len() >= MAX_FRAGMENTS {
            map.clear();
        }
        map.insert(key, fragment);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Fragment>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}
