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
