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
