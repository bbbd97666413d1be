//! The registered templates, as sends read them: every template send looks
//! its name up, and reading and decoding the rows was about 8 % of the
//! server's CPU in a template campaign. Lookups are kept in memory; every
//! write goes through here and forgets them, and in a multiconnect
//! deployment a write on another node reaches this one as a configuration
//! notice (`forget`, from the cluster's reload hook). A lookup that raced
//! with a write is not kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::templates::Template;
use crate::ports::{Store, StoreResult, TemplateRecord};

/// Names kept. A registry is small; this bounds a client that sends to
/// thousands of names that do not exist.
const CAPACITY: u64 = 10_000;
/// A bound on staleness should a change ever arrive by a path that does not
/// forget (an edit made in the database by hand).
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

pub struct TemplateRegistry {
    store: Arc<dyn Store>,
    /// `namespace \0 name` → its languages.
    by_name: moka::sync::Cache<String, Arc<Vec<Template>>>,
    /// Bumped by every write: a lookup read before it is not kept.
    generation: AtomicU64,
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}\u{0}{name}")
}

impl TemplateRegistry {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            store,
            by_name: moka::sync::Cache::builder().max_capacity(CAPACITY).time_to_live(TIME_TO_LIVE).build(),
            generation: AtomicU64::new(0),
        })
    }

    /// Every language of template `name` in `namespace`.
    pub async fn find(&self, namespace: &str, name: &str) -> StoreResult<Arc<Vec<Template>>> {
        let key = key(namespace, name);
        if let Some(hit) = self.by_name.get(&key) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let found: Arc<Vec<Template>> = Arc::new(
            self.store.find_templates(namespace, name).await?.into_iter().filter_map(Template::from_record).collect(),
        );
        if self.generation.load(Ordering::Acquire) == generation {
            self.by_name.insert(key, Arc::clone(&found));
        }
        Ok(found)
    }

    /// Every template, from the store.
    pub async fn list(&self) -> StoreResult<Vec<Template>> {
        Ok(self.store.list_templates().await?.into_iter().filter_map(Template::from_record).collect())
    }

    /// Adds or replaces a template.
    pub async fn put(&self, record: &TemplateRecord) -> StoreResult<()> {
        let out = self.store.put_template(record).await;
        self.forget();
        out
    }

    /// Deletes one language of a template, or all; how many went.
    pub async fn delete(&self, namespace: &str, name: &str, language: Option<&str>) -> StoreResult<u64> {
        let out = self.store.delete_templates(namespace, name, language).await;
        self.forget();
        out
    }

    /// Drops what is kept (after a write here or on another node).
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.by_name.invalidate_all();
    }
}
