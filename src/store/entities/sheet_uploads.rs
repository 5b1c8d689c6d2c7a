use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sheet_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub username: String,
    pub file_name: String,
    pub sheet: Option<String>,
    /// Whether rows with errors are left out.
    pub leave_out: bool,
    /// Whether the people the sheet names that the plan lacks are made.
    pub create_people: bool,
    /// The fields chosen for its columns (JSON: header → field key or null).
    pub columns: String,
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
