//! Who may read and change what: roles, API tokens (stored as hashes),
//! dashboard users with their memberships, and sign-in sessions.

use super::Store;
use crate::error::{Error, Result};
use crate::time::now;
use sqlx::Row;

/// Roles a token can have, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A dashboard user as `touchpoint user list` shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub email: String,
    pub created_at: String,
    /// `(site key, role)`.
    pub roles: Vec<(String, Role)>,
}

async fn user_id(tx: &mut sqlx::Transaction<'_, sqlx::Any>, email: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get(0)))
}

async fn set_password(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Stores a token's hash with its role on a site.
    pub async fn add_token(&self, site_id: i64, role: Role, hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO tokens (site_id, role, hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(site_id)
            .bind(role.as_str())
            .bind(hash)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The site id and role a live token hash grants.
    pub async fn token(&self, hash: &str) -> Result<Option<(i64, Role)>> {
        let row =
            sqlx::query("SELECT site_id, role FROM tokens WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| Role::parse(r.get::<&str, _>(1)).map(|role| (r.get(0), role))))
    }

    /// The tokens of a site: `(id, role, created_at, revoked_at)`, never their values.
    pub async fn tokens(&self, site_id: i64) -> Result<Vec<(i64, String, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, role, created_at, revoked_at FROM tokens WHERE site_id = $1 ORDER BY id",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// Revokes a token by id or by the hash of its value; returns whether a
    /// live token was revoked.
    pub async fn revoke_token(&self, id: Option<i64>, hash: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND (id = $2 OR hash = $3)",
        )
        .bind(now())
        .bind(id.unwrap_or(-1))
        .bind(hash.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates a user, or updates the password of an existing one (when
    /// given); then grants `role` on the site. Returns the user id.
    pub async fn upsert_user(
        &self,
        email: &str,
        password_hash: Option<&str>,
        site_id: i64,
        role: Role,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        let id: i64 = match (existing, password_hash) {
            (Some(row), Some(hash)) => {
                let id = row.get(0);
                set_password(&mut tx, id, hash).await?;
                id
            }
            (Some(row), None) => row.get(0),
            (None, Some(hash)) => {
                sqlx::query(
                    "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)",
                )
                .bind(email)
                .bind(hash)
                .bind(now())
                .execute(&mut *tx)
                .await?;
                sqlx::query("SELECT id FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0)
            }
            (None, None) => {
                return Err(Error::bad_request(
                    "password_required",
                    "a new user needs a password",
                ));
            }
        };
        sqlx::query(
            "INSERT INTO memberships (user_id, site_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, site_id) DO UPDATE SET role = excluded.role",
        )
        .bind(id)
        .bind(site_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a user's password and ends every session they had, so a
    /// stolen cookie dies with the old password. Returns whether the user
    /// exists.
    pub async fn change_password(&self, email: &str, password_hash: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let Some(id) = user_id(&mut tx, email).await? else {
            return Ok(false);
        };
        set_password(&mut tx, id, password_hash).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes a user (their memberships and sessions with them), or with
    /// `site` only their role on that site (and their sessions, which may
    /// hold pages of it). Returns whether anything was removed.
    pub async fn remove_user(&self, email: &str, site_id: Option<i64>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let Some(id) = user_id(&mut tx, email).await? else {
            return Ok(false);
        };
        let removed = match site_id {
            Some(site_id) => {
                let n = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND site_id = $2")
                    .bind(id)
                    .bind(site_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                n > 0
            }
            None => {
                for table in ["sessions", "memberships"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0
            }
        };
        tx.commit().await?;
        Ok(removed)
    }

    /// Every user, or those with a role on `site`: `(e-mail, created_at,
    /// [(site key, role)])`, by e-mail.
    pub async fn users(&self, site_id: Option<i64>) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(
            "SELECT u.email, u.created_at, s.key, m.role FROM users u \
             LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN sites s ON s.id = m.site_id \
             WHERE $1 < 0 OR u.id IN (SELECT user_id FROM memberships WHERE site_id = $1) \
             ORDER BY u.email, s.key",
        )
        .bind(site_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        let mut users: Vec<UserRow> = Vec::new();
        for r in rows {
            let email: String = r.get(0);
            if users.last().is_none_or(|u| u.email != email) {
                users.push(UserRow {
                    email,
                    created_at: r.get(1),
                    roles: Vec::new(),
                });
            }
            let key: Option<String> = r.get(2);
            let role: Option<String> = r.get(3);
            if let (Some(key), Some(role)) = (key, role.as_deref().and_then(Role::parse)) {
                users
                    .last_mut()
                    .expect("pushed above")
                    .roles
                    .push((key, role));
            }
        }
        Ok(users)
    }

    /// `(user id, password hash)` of an e-mail address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// The sites a user may see, with their role: `(site key, site name, role)`,
    /// by name.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(String, String, Role)>> {
        let rows = sqlx::query(
            "SELECT s.key, s.name, m.role FROM memberships m JOIN sites s ON s.id = m.site_id WHERE m.user_id = $1 ORDER BY s.name, s.key",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.get(0), r.get(1), Role::parse(r.get::<&str, _>(2))?)))
            .collect())
    }

    /// A user's role on a site, if any.
    pub async fn membership(&self, user_id: i64, site_id: i64) -> Result<Option<Role>> {
        let row = sqlx::query("SELECT role FROM memberships WHERE user_id = $1 AND site_id = $2")
            .bind(user_id)
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| Role::parse(r.get::<&str, _>(0))))
    }

    pub async fn create_session(
        &self,
        hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `(user id, e-mail, csrf token)` of a live session.
    pub async fn session(&self, hash: &str) -> Result<Option<(i64, String, String)>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.hash = $1 AND s.expires_at > $2",
        )
        .bind(hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    pub async fn delete_session(&self, hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
