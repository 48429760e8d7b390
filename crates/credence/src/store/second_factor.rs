//! Second factors (TOTP secrets), recovery codes and sign-ins waiting for their second factor.

use super::{Store, StoreResult, now};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecondFactorRow {
    pub person_id: i64,
    pub secret: String,
    pub confirmed_at: Option<String>,
    pub last_step: i64,
}

impl Store {
    pub async fn second_factor(&self, person_id: i64) -> StoreResult<Option<SecondFactorRow>> {
        Ok(sqlx::query_as(
            "select person_id, secret, confirmed_at, last_step from second_factor where person_id = $1",
        )
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Start setting up a second factor (replacing one not yet confirmed).
    pub async fn begin_second_factor(&self, person_id: i64, secret: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from second_factor where person_id = $1 and confirmed_at is null")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into second_factor (person_id, secret, confirmed_at, last_step, created_at) values ($1, $2, null, 0, $3)")
            .bind(person_id)
            .bind(secret)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await
    }

    /// Accept a code's time step, once: false if that step (or a later one) was used.
    pub async fn use_second_factor_step(&self, person_id: i64, step: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update second_factor set last_step = $1 where person_id = $2 and last_step < $1",
        )
        .bind(step)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// Confirm the second factor (its first code was right) with new recovery codes.
    pub async fn confirm_second_factor(
        &self,
        person_id: i64,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "update second_factor set confirmed_at = $1, last_step = $2 where person_id = $3",
        )
        .bind(now())
        .bind(step)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from recovery_code where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        for h in recovery_hashes {
            sqlx::query(
                "insert into recovery_code (person_id, code_hash, used_at) values ($1, $2, null)",
            )
            .bind(person_id)
            .bind(h)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, &[]).await
    }

    /// Use a recovery code: false if it is not one of the person's unused codes.
    pub async fn use_recovery_code(&self, person_id: i64, hash: &str) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update recovery_code set used_at = $1 where person_id = $2 and code_hash = $3 and used_at is null")
            .bind(now())
            .bind(person_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// How many unused recovery codes the person has.
    pub async fn recovery_codes_left(&self, person_id: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from recovery_code where person_id = $1 and used_at is null",
        )
        .bind(person_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// Remove a person's second factor and recovery codes (the operator, for a lost device).
    pub async fn remove_second_factor(&self, person_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from recovery_code where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("delete from second_factor where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    pub async fn create_challenge(
        &self,
        hash: &str,
        person_id: i64,
        expires_at: &str,
    ) -> StoreResult<()> {
        sqlx::query("insert into sign_in_challenge (challenge_hash, person_id, expires_at) values ($1, $2, $3)")
            .bind(hash)
            .bind(person_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The person of a live challenge.
    pub async fn challenge(&self, hash: &str) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "select person_id from sign_in_challenge where challenge_hash = $1 and expires_at > $2",
        )
        .bind(hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(p,)| p))
    }

    pub async fn delete_challenge(&self, hash: &str) -> StoreResult<()> {
        sqlx::query("delete from sign_in_challenge where challenge_hash = $1 or expires_at <= $2")
            .bind(hash)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
