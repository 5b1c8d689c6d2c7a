//! sea-orm entities, one module per table (see the migrations crate for the schema).
//! Relations are not declared: plans are loaded table by table, keyed by plan.

pub mod plans {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub name: String,
        #[sea_orm(column_type = "Text")]
        pub organisation: String,
        pub owner_role: String,
        pub approver_role: String,
        pub review_interval_minutes: i64,
        pub exercise_interval_minutes: i64,
        #[sea_orm(column_type = "Text")]
        pub purpose: String,
        #[sea_orm(column_type = "Text")]
        pub scope: String,
        #[sea_orm(column_type = "Text")]
        pub audience: String,
        #[sea_orm(column_type = "Text")]
        pub resources: String,
        #[sea_orm(column_type = "Text")]
        pub backups: String,
        #[sea_orm(column_type = "Text")]
        pub return_to_normal: String,
        #[sea_orm(column_type = "Text")]
        pub incident_handling: String,
        pub revision: i64,
        pub sections_revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod plan_roles {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plan_roles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub position: i32,
        #[sea_orm(column_type = "Text")]
        pub name: String,
        #[sea_orm(column_type = "Text")]
        pub responsibilities: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod people {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub position: i32,
        #[sea_orm(column_type = "Text")]
        pub name: String,
        #[sea_orm(column_type = "Text")]
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub email: String,
        #[sea_orm(column_type = "Text")]
        pub phone: String,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod person_roles {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "person_roles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub role_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod plan_criteria {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plan_criteria")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        #[sea_orm(column_type = "Text")]
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod call_tree {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_tree")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub person_id: String,
        pub called_by: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod channels {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "channels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        #[sea_orm(column_type = "Text")]
        pub name: String,
        #[sea_orm(column_type = "Text")]
        pub purpose: String,
        #[sea_orm(column_type = "Text")]
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod systems {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "systems")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub name: String,
        #[sea_orm(column_type = "Text")]
        pub description: String,
        pub owner: Option<String>,
        pub deputy: Option<String>,
        pub criticality: i16,
        pub rto_minutes: Option<i64>,
        pub rpo_minutes: Option<i64>,
        pub mtpd_minutes: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub workaround: String,
        #[sea_orm(column_type = "Text")]
        pub verification: String,
        pub last_reviewed: Option<Date>,
        pub reviewed_by: Option<String>,
        pub review_interval_minutes: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub supplier_name: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub supplier_contact: String,
        #[sea_orm(column_type = "Text")]
        pub supplier_phone: String,
        #[sea_orm(column_type = "Text")]
        pub supplier_email: String,
        pub supplier_contract_restore_minutes: Option<i64>,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod system_dependencies {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "system_dependencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub depends_on: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod recovery_steps {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recovery_steps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        #[sea_orm(column_type = "Text")]
        pub text: String,
        pub role_id: String,
        pub duration_minutes: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod impact_levels {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "impact_levels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub after_minutes: i64,
        pub level: String,
        #[sea_orm(column_type = "Text")]
        pub citizens: String,
        #[sea_orm(column_type = "Text")]
        pub staff: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub username: String,
        #[sea_orm(column_type = "Text")]
        pub display_name: String,
        #[sea_orm(column_type = "Text")]
        pub password_hash: String,
        pub role: String,
        pub person_id: Option<String>,
        pub language: Option<String>,
        pub active: bool,
        pub api_token_hash: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sessions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub data: String,
        /// Unix seconds.
        pub expires_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod plan_versions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plan_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub number: i32,
        pub plan_revision: i64,
        /// The whole plan as JSON.
        #[sea_orm(column_type = "Text")]
        pub snapshot: String,
        pub approved_by: String,
        pub approved_at: DateTimeUtc,
        #[sea_orm(column_type = "Text")]
        pub comment: String,
        /// The systems this version changed significantly (horizons, dependencies, recovery
        /// steps), as JSON `{"system": ["rto", …]}`: they should be exercised again.
        #[sea_orm(column_type = "Text", nullable)]
        pub exercise_after: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: DateTimeUtc,
        pub actor: String,
        pub plan_id: Option<String>,
        pub system_id: Option<String>,
        pub action: String,
        pub field: String,
        #[sea_orm(column_type = "Text")]
        pub before: String,
        #[sea_orm(column_type = "Text")]
        pub after: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scenarios {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scenarios")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub title: String,
        pub kind: String,
        #[sea_orm(column_type = "Text")]
        pub definition: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod drills {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "drills")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub plan_id: String,
        pub scenario_id: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub definition: String,
        pub facilitator: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub participants: String,
        #[sea_orm(column_type = "Text")]
        pub location: String,
        #[sea_orm(column_type = "Text")]
        pub schedule: String,
        pub time_zone: String,
        pub invite_days_before: i32,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub cancelled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod drill_occurrences {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "drill_occurrences")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub drill_id: i64,
        pub starts_at: DateTimeUtc,
        #[sea_orm(unique)]
        pub uid: String,
        pub sequence: i32,
        pub state: String,
        pub invited_at: Option<DateTimeUtc>,
        pub reminded_at: Option<DateTimeUtc>,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_by: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub went_well: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub went_badly: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub lessons: Option<String>,
        pub evaluated_at: Option<DateTimeUtc>,
        pub evaluation_reminded_at: Option<DateTimeUtc>,
        /// When the facilitator started the drill (the injects count from it; else `starts_at`).
        pub started_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub message_id: String,
        pub kind: String,
        pub occurrence_id: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub to_address: String,
        #[sea_orm(column_type = "Text")]
        pub to_name: String,
        #[sea_orm(column_type = "Text")]
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body_text: String,
        #[sea_orm(column_type = "Text")]
        pub body_html: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub ics: Option<String>,
        pub state: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub claimed_until: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub last_error: String,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod drill_records {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "drill_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub occurrence_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        pub found: Option<bool>,
        pub followed: Option<bool>,
        pub recovery_minutes: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub notes: String,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod drill_timeline {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "drill_timeline")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub occurrence_id: i64,
        pub at: DateTimeUtc,
        pub author: String,
        #[sea_orm(column_type = "Text")]
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod action_items {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "action_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub plan_id: String,
        pub occurrence_id: Option<i64>,
        pub system_id: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub title: String,
        pub owner: String,
        pub due: Date,
        pub status: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
        /// When the owner was last reminded that the item is overdue.
        pub reminded_at: Option<DateTimeUtc>,
        /// The incident it came from (else the drill occurrence, if any).
        pub incident_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod incidents {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incidents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub plan_id: String,
        pub version: Option<i32>,
        #[sea_orm(column_type = "Text")]
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub criterion: String,
        pub started_at: DateTimeUtc,
        pub opened_by: String,
        pub state: String,
        pub stood_down_at: Option<DateTimeUtc>,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_by: Option<String>,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod incident_systems {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_systems")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub incident_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        pub down_at: DateTimeUtc,
        pub recovered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod incident_ticks {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_ticks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub incident_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub step: i32,
        pub ticked_by: String,
        pub ticked_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod incident_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incident_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub incident_id: i64,
        pub at: DateTimeUtc,
        pub author: String,
        pub kind: String,
        pub system_id: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod review_reminders {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_reminders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub system_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub due: String,
        pub last_sent_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod calendar_feeds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_feeds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: i64,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
