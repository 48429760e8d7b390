//! People come and go: roles removed, accounts disabled, caseloads moved, registrations
//! withdrawn or paused.

use super::*;

/// A registration's withdrawal, break or resumption.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationEventRow {
    pub registration_id: i64,
    pub kind: String,
    pub effective_on: String,
    pub reason: String,
    pub at: String,
}

impl Store {
    /// The registrations a person holds `role` for at a centre.
    pub async fn caseload_of(
        &self,
        person_id: i64,
        centre_id: i64,
        role: &str,
    ) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select a.registration_id from assignment a join registration r on r.registration_id = a.registration_id where a.person_id = $1 and r.centre_id = $2 and a.role = $3 order by a.registration_id",
        )
        .bind(person_id)
        .bind(centre_id)
        .bind(role)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }

    /// Move every one of `registrations` from `from` to `to` in `role`, in one transaction
    /// (where `to` already holds it, `from`'s assignment just goes).
    pub async fn reassign(
        &self,
        registrations: &[i64],
        from: i64,
        to: i64,
        role: &str,
        by: i64,
    ) -> StoreResult<usize> {
        let mut tx = self.begin().await?;
        let at = now();
        for reg in registrations {
            sqlx::query("delete from assignment where registration_id = $1 and person_id = $2 and role = $3")
                .bind(reg)
                .bind(from)
                .bind(role)
                .execute(&mut *tx)
                .await?;
            let exists: Option<(i64,)> = sqlx::query_as(
                "select assignment_id from assignment where registration_id = $1 and person_id = $2 and role = $3",
            )
            .bind(reg)
            .bind(to)
            .bind(role)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                sqlx::query("insert into assignment (registration_id, person_id, role, assigned_by, created_at) values ($1, $2, $3, $4, $5)")
                    .bind(reg)
                    .bind(to)
                    .bind(role)
                    .bind(by)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit(tx, &[]).await?;
        Ok(registrations.len())
    }

    /// Remove a person's role at a centre (sessions working in it fall back to no role).
    pub async fn remove_centre_role(
        &self,
        person_id: i64,
        centre_id: i64,
        role: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let grants: Vec<(i64,)> = sqlx::query_as(
            "select role_grant_id from role_grant where person_id = $1 and centre_id = $2 and role = $3",
        )
        .bind(person_id)
        .bind(centre_id)
        .bind(role)
        .fetch_all(&mut *tx)
        .await?;
        drop_grants(&mut tx, &grants).await?;
        if role == "iqa" {
            sqlx::query("delete from lead_iqa where person_id = $1 and centre_id = $2")
                .bind(person_id)
                .bind(centre_id)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, &[]).await?;
        Ok(!grants.is_empty())
    }

    /// Disable an account: sign-in refused from now on, every session and API token ended.
    pub async fn disable_person(&self, person_id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let at = now();
        sqlx::query("update person set disabled = 1, updated_at = $2 where person_id = $1")
            .bind(person_id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from session where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "update api_token set revoked_at = $2 where person_id = $1 and revoked_at is null",
        )
        .bind(person_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Enable a disabled account again (they sign in with their password, or reset it).
    pub async fn enable_person(&self, person_id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("update person set disabled = 0, updated_at = $2 where person_id = $1")
            .bind(person_id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Record a withdrawal, break or resumption and set the registration's status, together.
    pub async fn change_registration_status(
        &self,
        registration_id: i64,
        kind: &str,
        status: &str,
        effective_on: &str,
        reason: &str,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let at = now();
        sqlx::query("insert into registration_event (registration_id, kind, effective_on, reason, by_person, at) values ($1, $2, $3, $4, $5, $6)")
            .bind(registration_id)
            .bind(kind)
            .bind(effective_on)
            .bind(reason)
            .bind(by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "update registration set status = $2, updated_at = $3 where registration_id = $1",
        )
        .bind(registration_id)
        .bind(status)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// A registration's withdrawals, breaks and resumptions, oldest first.
    pub async fn registration_events(
        &self,
        registration_id: i64,
    ) -> StoreResult<Vec<RegistrationEventRow>> {
        Ok(sqlx::query_as(
            "select registration_id, kind, effective_on, reason, at from registration_event where registration_id = $1 order by at",
        )
        .bind(registration_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// A person holding an AO role (staff or EQA).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AoPersonRow {
    pub person_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub disabled: i64,
}

impl Store {
    /// Everyone holding a role for an AO, by name.
    pub async fn ao_people(&self, ao_code: &str) -> StoreResult<Vec<AoPersonRow>> {
        Ok(sqlx::query_as(
            "select p.person_id, p.display_name, p.email, g.role, p.disabled from role_grant g join person p on p.person_id = g.person_id where g.ao_code = $1 and g.role in ('ao_staff', 'eqa') order by p.display_name, g.role",
        )
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Remove a person's role for an AO (an EQA's appointments for that AO go with it).
    pub async fn remove_ao_role(
        &self,
        person_id: i64,
        ao_code: &str,
        role: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let grants: Vec<(i64,)> = sqlx::query_as(
            "select role_grant_id from role_grant where person_id = $1 and ao_code = $2 and role = $3",
        )
        .bind(person_id)
        .bind(ao_code)
        .bind(role)
        .fetch_all(&mut *tx)
        .await?;
        drop_grants(&mut tx, &grants).await?;
        if role == "eqa" {
            sqlx::query("delete from eqa_appointment where person_id = $1 and ao_code = $2")
                .bind(person_id)
                .bind(ao_code)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, &[]).await?;
        Ok(!grants.is_empty())
    }
}

/// Delete role grants inside `tx`; sessions working in one fall back to no role.
async fn drop_grants(tx: &mut Tx, grants: &[(i64,)]) -> StoreResult<()> {
    for (g,) in grants {
        sqlx::query("update session set active_grant_id = null where active_grant_id = $1")
            .bind(g)
            .execute(&mut **tx)
            .await?;
        sqlx::query("delete from role_grant where role_grant_id = $1")
            .bind(g)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
