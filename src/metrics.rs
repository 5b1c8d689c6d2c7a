//! Operational metrics, served at `/metrics` in the Prometheus text format: requests and their
//! latency per route, the mail outbox (depth, age, deliveries and failures), the drill
//! scheduler (last pass, its duration and how late it is), and the process' resident memory.
//!
//! Counters and histograms are updated where things happen (the HTTP layer, the mail worker,
//! the scheduler); the outbox figures are read from the database when `/metrics` is scraped, so
//! they are right however many server processes share the database.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

type Labels = Vec<(&'static str, String)>;

/// Latency buckets from 0.5 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The registry and every metric in it; one per server process.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    mail_delivered: Counter,
    mail_retried: Counter,
    mail_failed: Counter,
    deliveries: Family<Labels, Counter>,
    outbox: Family<Labels, Gauge>,
    outbox_oldest_due: Gauge<f64, AtomicU64>,
    scheduler_passes: Counter,
    scheduler_errors: Counter,
    scheduler_pass: Histogram,
    scheduler_last_pass: Gauge<i64, AtomicI64>,
    scheduler_lag: Gauge<f64, AtomicU64>,
    scheduler_every: AtomicU64,
    resident_memory: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("beredskab");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response's headers, by route",
            Unit::Seconds,
            latency.clone(),
        );
        let mail_delivered = Counter::default();
        registry.register(
            "mail_delivered",
            "Messages the mail server accepted",
            mail_delivered.clone(),
        );
        let mail_retried = Counter::default();
        registry.register(
            "mail_retried",
            "Deliveries that failed for a reason that passes (server down, busy) and will be tried again",
            mail_retried.clone(),
        );
        let deliveries = Family::<Labels, Counter>::default();
        registry.register(
            "outbox_deliveries",
            "Delivery attempts by this process, by channel (mail, sms, teams, webhook) and outcome (delivered, retry, failed)",
            deliveries.clone(),
        );
        let mail_failed = Counter::default();
        registry.register(
            "mail_failed",
            "Messages the mail server refused for good (kept in the outbox with its reply)",
            mail_failed.clone(),
        );
        let outbox = Family::<Labels, Gauge>::default();
        registry.register(
            "outbox_messages",
            "Messages in the outbox by state: queued (waiting or to be retried), sending, sent, failed",
            outbox.clone(),
        );
        let outbox_oldest_due = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "outbox_oldest_due_age",
            "How long the oldest message due for sending has waited (0 when none waits)",
            Unit::Seconds,
            outbox_oldest_due.clone(),
        );
        let scheduler_passes = Counter::default();
        registry.register(
            "scheduler_passes",
            "Passes of the drill scheduler",
            scheduler_passes.clone(),
        );
        let scheduler_errors = Counter::default();
        registry.register(
            "scheduler_errors",
            "Passes of the drill scheduler that ended in an error",
            scheduler_errors.clone(),
        );
        let scheduler_pass = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register_with_unit(
            "scheduler_pass_duration",
            "How long a pass of the drill scheduler took",
            Unit::Seconds,
            scheduler_pass.clone(),
        );
        let scheduler_last_pass = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "scheduler_last_pass_timestamp_seconds",
            "When the drill scheduler last finished a pass (Unix time)",
            scheduler_last_pass.clone(),
        );
        let scheduler_lag = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "scheduler_lag",
            "How far the drill scheduler is behind its next pass (0 while it keeps time)",
            Unit::Seconds,
            scheduler_lag.clone(),
        );
        let resident_memory = Gauge::<i64, AtomicI64>::default();
        registry.register_with_unit(
            "process_resident_memory",
            "Resident memory of the server process",
            Unit::Bytes,
            resident_memory.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            mail_delivered,
            mail_retried,
            mail_failed,
            deliveries,
            outbox,
            outbox_oldest_due,
            scheduler_passes,
            scheduler_errors,
            scheduler_pass,
            scheduler_last_pass,
            scheduler_lag,
            scheduler_every: AtomicU64::new(60),
            resident_memory,
        }
    }

    /// One answered request. `route` is the route's pattern (`/plans/{plan}`), never the path
    /// itself, so the number of series stays bounded.
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("route", route.to_string())])
            .observe(elapsed.as_secs_f64());
    }

    /// The outcome of one delivery attempt on `channel` (`mail`, `sms`, …).
    pub fn delivery(&self, channel: &'static str, outcome: Outcome) {
        let (counter, name) = match outcome {
            Outcome::Delivered => (&self.mail_delivered, "delivered"),
            Outcome::Retry => (&self.mail_retried, "retry"),
            Outcome::Failed => (&self.mail_failed, "failed"),
        };
        if channel == "mail" {
            counter.inc();
        }
        self.deliveries
            .get_or_create(&vec![
                ("channel", channel.to_string()),
                ("outcome", name.to_string()),
            ])
            .inc();
    }

    /// The scheduler's pass interval, for its lag.
    pub fn scheduler_every(&self, every: Duration) {
        self.scheduler_every
            .store(every.as_secs(), Ordering::Relaxed);
    }

    /// A finished pass of the drill scheduler.
    pub fn scheduler_pass(
        &self,
        elapsed: Duration,
        ok: bool,
        finished: chrono::DateTime<chrono::Utc>,
    ) {
        self.scheduler_passes.inc();
        if !ok {
            self.scheduler_errors.inc();
        }
        self.scheduler_pass.observe(elapsed.as_secs_f64());
        self.scheduler_last_pass.set(finished.timestamp());
    }

    /// The text a scrape gets, with the figures read at scrape time filled in.
    pub fn render(&self, outbox: &OutboxFigures, now: chrono::DateTime<chrono::Utc>) -> String {
        for (channel, state, count) in &outbox.by_state {
            self.outbox
                .get_or_create(&vec![
                    ("channel", channel.to_string()),
                    ("state", state.clone()),
                ])
                .set(*count);
        }
        self.outbox_oldest_due
            .set(outbox.oldest_due_age.as_secs_f64());
        let last = self.scheduler_last_pass.get();
        if last > 0 {
            let every = self.scheduler_every.load(Ordering::Relaxed) as i64;
            // A pass is due `every` seconds after the last one finished; seconds past that.
            let late = (now.timestamp() - last - every).max(0);
            self.scheduler_lag.set(late as f64);
        }
        if let Some(bytes) = resident_memory() {
            self.resident_memory.set(bytes);
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The content type of what `render` returns.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry,
    Failed,
}

/// The outbox as the database holds it at scrape time.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OutboxFigures {
    /// Every channel and state, with 0 where no message has it.
    pub by_state: Vec<(&'static str, String, i64)>,
    pub oldest_due_age: Duration,
}

/// Gives memory the allocator holds but no longer uses back to the system. glibc keeps freed
/// memory for reuse, so one large piece of work (importing or loading a plan of thousands of
/// systems) would otherwise stay in the resident size for the life of the server.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused pages of the allocator's own heap to the system;
    // it takes no pointers and is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Resident memory of this process in bytes, from `/proc/self/statm` (Linux).
pub fn resident_memory() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_holds_every_family_with_its_values() {
        let m = Metrics::new();
        m.request("/plans/{plan}", "GET", 200, Duration::from_millis(3));
        m.request("/plans/{plan}", "GET", 200, Duration::from_millis(30));
        m.delivery("mail", Outcome::Retry);
        m.delivery("sms", Outcome::Delivered);
        m.scheduler_every(Duration::from_secs(60));
        let now = chrono::Utc::now();
        m.scheduler_pass(
            Duration::from_millis(5),
            true,
            now - chrono::Duration::seconds(100),
        );
        let text = m.render(
            &OutboxFigures {
                by_state: vec![("mail", "queued".into(), 3), ("sms", "failed".into(), 1)],
                oldest_due_age: Duration::from_secs(12),
            },
            now,
        );
        assert!(text.contains(
            r#"beredskab_http_requests_total{route="/plans/{plan}",method="GET",status="200"} 2"#
        ), "{text}");
        assert!(text.contains(r#"beredskab_http_request_duration_seconds_bucket{le="0.004",route="/plans/{plan}"} 1"#)
            || text.contains(r#"beredskab_http_request_duration_seconds_bucket{route="/plans/{plan}",le="0.004"} 1"#), "{text}");
        assert!(text.contains("beredskab_mail_retried_total 1"), "{text}");
        assert!(
            text.contains(r#"beredskab_outbox_messages{channel="mail",state="queued"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"beredskab_outbox_deliveries_total{channel="sms",outcome="delivered"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("beredskab_outbox_oldest_due_age_seconds 12"),
            "{text}"
        );
        // Finished 100 s ago with a pass due every 60 s: 40 s late.
        assert!(
            text.contains("beredskab_scheduler_lag_seconds 40"),
            "{text}"
        );
        assert!(
            text.contains("beredskab_process_resident_memory_bytes "),
            "{text}"
        );
    }
}
