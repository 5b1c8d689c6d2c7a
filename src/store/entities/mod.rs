//! sea-orm entities, one module per table (see the migrations crate for the schema).
//! Relations are not declared: plans are loaded table by table, keyed by plan.

// The plan, table by table.
pub mod call_tree;
pub mod channels;
pub mod impact_levels;
pub mod people;
pub mod person_roles;
pub mod plan_criteria;
pub mod plan_roles;
pub mod plans;
pub mod recovery_steps;
pub mod system_dependencies;
pub mod systems;

// Approved versions, the audit trail and review reminders.
pub mod audit_events;
// Dispensations, their decisions and the reminders before they expire.
pub mod dispensation_decisions;
pub mod dispensation_reminders;
pub mod dispensations;
pub mod plan_versions;
pub mod review_reminders;

// Spreadsheets uploaded for import, between preview and apply, and the columns chosen for them.
pub mod sheet_columns;
pub mod sheet_uploads;

// Accounts, their memberships of plans, the group mappings, sessions, API tokens, failed
// logins, recovery codes, calendar feeds and the identities they sign in with at an identity
// provider.
pub mod account_identities;
pub mod accounts;
pub mod api_tokens;
pub mod calendar_feeds;
pub mod group_mappings;
pub mod login_failures;
pub mod memberships;
pub mod recovery_codes;
pub mod sessions;

// Scenarios and drills.
pub mod drill_inject_plays;
pub mod drill_occurrences;
pub mod drill_records;
pub mod drill_timeline;
pub mod drills;
pub mod scenarios;

// Incidents, and who was alerted about them.
pub mod alert_recipients;
pub mod incident_client_actions;
pub mod incident_events;
pub mod incident_systems;
pub mod incident_ticks;
pub mod incidents;

// Follow-up: action items, the outbox of every channel, and the webhook endpoints.
pub mod action_items;
pub mod outbox;
pub mod webhook_endpoints;
