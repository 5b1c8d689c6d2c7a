use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispensation_decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dispensation_id: i64,
    pub decided_by: String,
    pub decided_at: DateTimeUtc,
    pub decided_on: Date,
    pub approved: bool,
    pub expires_on: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
