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
    pub alert_escalation_minutes: i32,
    pub call_tree_target_minutes: i32,
    pub dispensation_max_months: i32,
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
