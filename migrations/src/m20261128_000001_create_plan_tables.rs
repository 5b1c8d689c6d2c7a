//! The plan model: plans with their sections, roles, people, call tree and channels, and systems
//! with their dependencies, recovery steps and impact tables. Every table is keyed by plan.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    Name,
    Organisation,
    OwnerRole,
    ApproverRole,
    ReviewIntervalMinutes,
    Purpose,
    Scope,
    Audience,
    Resources,
    Backups,
    ReturnToNormal,
    IncidentHandling,
}

#[derive(DeriveIden)]
enum PlanRoles {
    Table,
    PlanId,
    Id,
    Position,
    Name,
    Responsibilities,
}

#[derive(DeriveIden)]
enum People {
    Table,
    PlanId,
    Id,
    Position,
    Name,
    Title,
    Email,
    Phone,
}

#[derive(DeriveIden)]
enum PersonRoles {
    Table,
    PlanId,
    PersonId,
    Position,
    RoleId,
}

#[derive(DeriveIden)]
enum PlanCriteria {
    Table,
    PlanId,
    Kind,
    Position,
    Text,
}

#[derive(DeriveIden)]
enum CallTree {
    Table,
    PlanId,
    Position,
    PersonId,
    CalledBy,
    Note,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    PlanId,
    Position,
    Name,
    Purpose,
    Detail,
}

#[derive(DeriveIden)]
enum Systems {
    Table,
    PlanId,
    Id,
    Name,
    Description,
    Owner,
    Deputy,
    Criticality,
    RtoMinutes,
    RpoMinutes,
    MtpdMinutes,
    Workaround,
    Verification,
    LastReviewed,
    ReviewedBy,
    ReviewIntervalMinutes,
    SupplierName,
    SupplierContact,
    SupplierPhone,
    SupplierEmail,
    SupplierContractRestoreMinutes,
}

#[derive(DeriveIden)]
enum SystemDependencies {
    Table,
    PlanId,
    SystemId,
    Position,
    DependsOn,
}

#[derive(DeriveIden)]
enum RecoverySteps {
    Table,
    PlanId,
    SystemId,
    Position,
    Text,
    RoleId,
    DurationMinutes,
}

#[derive(DeriveIden)]
enum ImpactLevels {
    Table,
    PlanId,
    SystemId,
    Position,
    AfterMinutes,
    Level,
    Citizens,
    Staff,
}

/// A foreign key from `(plan_id)` to `plans`, removed with its plan.
fn plan_fk(from: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, Alias::new("plan_id"))
        .to(Plans::Table, Plans::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A foreign key from `(plan_id, system_id)` to `systems`, removed with its system.
fn system_fk(from: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(from)
        .from_col(Alias::new("plan_id"))
        .from_col(Alias::new("system_id"))
        .to_tbl(Systems::Table)
        .to_col(Systems::PlanId)
        .to_col(Systems::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(string(Plans::Id).primary_key())
                    .col(text(Plans::Name))
                    .col(text(Plans::Organisation))
                    .col(string(Plans::OwnerRole))
                    .col(string(Plans::ApproverRole))
                    .col(big_integer(Plans::ReviewIntervalMinutes))
                    .col(text(Plans::Purpose))
                    .col(text(Plans::Scope))
                    .col(text(Plans::Audience))
                    .col(text(Plans::Resources))
                    .col(text(Plans::Backups))
                    .col(text(Plans::ReturnToNormal))
                    .col(text(Plans::IncidentHandling))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanRoles::Table)
                    .col(string(PlanRoles::PlanId))
                    .col(string(PlanRoles::Id))
                    .col(integer(PlanRoles::Position))
                    .col(text(PlanRoles::Name))
                    .col(text(PlanRoles::Responsibilities))
                    .primary_key(Index::create().col(PlanRoles::PlanId).col(PlanRoles::Id))
                    .foreign_key(&mut plan_fk(PlanRoles::Table, "fk_plan_roles_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .col(string(People::PlanId))
                    .col(string(People::Id))
                    .col(integer(People::Position))
                    .col(text(People::Name))
                    .col(text(People::Title))
                    .col(text(People::Email))
                    .col(text(People::Phone))
                    .primary_key(Index::create().col(People::PlanId).col(People::Id))
                    .foreign_key(&mut plan_fk(People::Table, "fk_people_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonRoles::Table)
                    .col(string(PersonRoles::PlanId))
                    .col(string(PersonRoles::PersonId))
                    .col(integer(PersonRoles::Position))
                    .col(string(PersonRoles::RoleId))
                    .primary_key(
                        Index::create()
                            .col(PersonRoles::PlanId)
                            .col(PersonRoles::PersonId)
                            .col(PersonRoles::Position),
                    )
                    .foreign_key(&mut plan_fk(PersonRoles::Table, "fk_person_roles_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanCriteria::Table)
                    .col(string(PlanCriteria::PlanId))
                    .col(string(PlanCriteria::Kind))
                    .col(integer(PlanCriteria::Position))
                    .col(text(PlanCriteria::Text))
                    .primary_key(
                        Index::create()
                            .col(PlanCriteria::PlanId)
                            .col(PlanCriteria::Kind)
                            .col(PlanCriteria::Position),
                    )
                    .foreign_key(&mut plan_fk(PlanCriteria::Table, "fk_plan_criteria_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CallTree::Table)
                    .col(string(CallTree::PlanId))
                    .col(integer(CallTree::Position))
                    .col(string(CallTree::PersonId))
                    .col(string_null(CallTree::CalledBy))
                    .col(text(CallTree::Note))
                    .primary_key(
                        Index::create()
                            .col(CallTree::PlanId)
                            .col(CallTree::Position),
                    )
                    .foreign_key(&mut plan_fk(CallTree::Table, "fk_call_tree_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(string(Channels::PlanId))
                    .col(integer(Channels::Position))
                    .col(text(Channels::Name))
                    .col(text(Channels::Purpose))
                    .col(text(Channels::Detail))
                    .primary_key(
                        Index::create()
                            .col(Channels::PlanId)
                            .col(Channels::Position),
                    )
                    .foreign_key(&mut plan_fk(Channels::Table, "fk_channels_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Systems::Table)
                    .col(string(Systems::PlanId))
                    .col(string(Systems::Id))
                    .col(text(Systems::Name))
                    .col(text(Systems::Description))
                    .col(string_null(Systems::Owner))
                    .col(string_null(Systems::Deputy))
                    .col(small_integer(Systems::Criticality))
                    .col(big_integer_null(Systems::RtoMinutes))
                    .col(big_integer_null(Systems::RpoMinutes))
                    .col(big_integer_null(Systems::MtpdMinutes))
                    .col(text(Systems::Workaround))
                    .col(text(Systems::Verification))
                    .col(date_null(Systems::LastReviewed))
                    .col(string_null(Systems::ReviewedBy))
                    .col(big_integer_null(Systems::ReviewIntervalMinutes))
                    .col(text_null(Systems::SupplierName))
                    .col(text(Systems::SupplierContact))
                    .col(text(Systems::SupplierPhone))
                    .col(text(Systems::SupplierEmail))
                    .col(big_integer_null(Systems::SupplierContractRestoreMinutes))
                    .primary_key(Index::create().col(Systems::PlanId).col(Systems::Id))
                    .foreign_key(&mut plan_fk(Systems::Table, "fk_systems_plan"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SystemDependencies::Table)
                    .col(string(SystemDependencies::PlanId))
                    .col(string(SystemDependencies::SystemId))
                    .col(integer(SystemDependencies::Position))
                    .col(string(SystemDependencies::DependsOn))
                    .primary_key(
                        Index::create()
                            .col(SystemDependencies::PlanId)
                            .col(SystemDependencies::SystemId)
                            .col(SystemDependencies::Position),
                    )
                    .foreign_key(&mut system_fk(
                        SystemDependencies::Table,
                        "fk_dependencies_system",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dependencies_depends_on")
                    .table(SystemDependencies::Table)
                    .col(SystemDependencies::PlanId)
                    .col(SystemDependencies::DependsOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoverySteps::Table)
                    .col(string(RecoverySteps::PlanId))
                    .col(string(RecoverySteps::SystemId))
                    .col(integer(RecoverySteps::Position))
                    .col(text(RecoverySteps::Text))
                    .col(string(RecoverySteps::RoleId))
                    .col(big_integer(RecoverySteps::DurationMinutes))
                    .primary_key(
                        Index::create()
                            .col(RecoverySteps::PlanId)
                            .col(RecoverySteps::SystemId)
                            .col(RecoverySteps::Position),
                    )
                    .foreign_key(&mut system_fk(RecoverySteps::Table, "fk_steps_system"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImpactLevels::Table)
                    .col(string(ImpactLevels::PlanId))
                    .col(string(ImpactLevels::SystemId))
                    .col(integer(ImpactLevels::Position))
                    .col(big_integer(ImpactLevels::AfterMinutes))
                    .col(string(ImpactLevels::Level))
                    .col(text(ImpactLevels::Citizens))
                    .col(text(ImpactLevels::Staff))
                    .primary_key(
                        Index::create()
                            .col(ImpactLevels::PlanId)
                            .col(ImpactLevels::SystemId)
                            .col(ImpactLevels::Position),
                    )
                    .foreign_key(&mut system_fk(ImpactLevels::Table, "fk_impact_system"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ImpactLevels::Table.into_iden(),
            RecoverySteps::Table.into_iden(),
            SystemDependencies::Table.into_iden(),
            Systems::Table.into_iden(),
            Channels::Table.into_iden(),
            CallTree::Table.into_iden(),
            PlanCriteria::Table.into_iden(),
            PersonRoles::Table.into_iden(),
            People::Table.into_iden(),
            PlanRoles::Table.into_iden(),
            Plans::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
