//! `touchpoint token …` and `touchpoint user …`: who may read and change a
//! site, through API tokens and dashboard users.

use super::{PasswordArgs, RoleArg, TokenCommand, UserCommand, site_record};
use crate::auth::{hash_password, hash_token, new_token};
use crate::store::{Role, Store};
use anyhow::bail;
use std::io::Write;

pub(super) async fn token(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    command: TokenCommand,
) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add { site, role } => {
            let record = site_record(store, &site).await?;
            let role = Role::from(role);
            let token = new_token();
            store
                .add_token(record.id, role, &hash_token(&token))
                .await?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "token": token, "site": site, "role": role.as_str() })
                )?;
            } else {
                writeln!(
                    out,
                    "{token}\n(shown once: store it now; it grants {} on {site})",
                    role.as_str()
                )?;
            }
        }
        TokenCommand::List { site } => {
            let record = site_record(store, &site).await?;
            let tokens = store.tokens(record.id).await?;
            if json {
                let list: Vec<_> = tokens
                    .iter()
                    .map(|(id, role, created, revoked)| {
                        serde_json::json!({ "id": id, "role": role, "created_at": created, "revoked_at": revoked })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::json!({ "tokens": list }))?;
            } else {
                for (id, role, created, revoked) in tokens {
                    let state =
                        revoked.map_or_else(|| "live".to_owned(), |r| format!("revoked {r}"));
                    writeln!(out, "{id}\t{role}\tcreated {created}\t{state}")?;
                }
            }
        }
        TokenCommand::Revoke { token } => {
            let revoked = match token.parse::<i64>() {
                Ok(id) => store.revoke_token(Some(id), None).await?,
                Err(_) => {
                    store
                        .revoke_token(None, Some(&hash_token(token.trim())))
                        .await?
                }
            };
            if !revoked {
                bail!("no live token matches {token:?}");
            }
            if json {
                writeln!(out, "{}", serde_json::json!({ "revoked": true }))?;
            } else {
                writeln!(out, "revoked")?;
            }
        }
    }
    Ok(())
}

pub(super) async fn user(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    command: UserCommand,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            site,
            role,
            password,
        } => {
            let record = site_record(store, &site).await?;
            let email = email_arg(&email)?;
            let hash = read_password(password)?.as_deref().map(hash_password);
            store
                .upsert_user(&email, hash.as_deref(), record.id, role.into())
                .await?;
            let role = Role::from(role).as_str();
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "email": email, "site": site, "role": role })
                )?;
            } else {
                writeln!(
                    out,
                    "{email} may now sign in with the {role} role on {site}"
                )?;
            }
        }
        UserCommand::Passwd { email, password } => {
            let email = email_arg(&email)?;
            let Some(password) = read_password(password)? else {
                bail!(
                    "give the new password on standard input (--password-stdin) or in TOUCHPOINT_PASSWORD"
                );
            };
            if !store
                .change_password(&email, &hash_password(&password))
                .await?
            {
                bail!("no user has the e-mail {email:?}");
            }
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "email": email, "sessions_ended": true })
                )?;
            } else {
                writeln!(out, "{email}'s password changed; their sessions have ended")?;
            }
        }
        UserCommand::Remove { email, site } => {
            let email = email_arg(&email)?;
            let site_id = match &site {
                Some(key) => Some(site_record(store, key).await?.id),
                None => None,
            };
            if !store.remove_user(&email, site_id).await? {
                match &site {
                    Some(key) => bail!("{email:?} has no role on {key}"),
                    None => bail!("no user has the e-mail {email:?}"),
                }
            }
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "email": email, "removed": true })
                )?;
            } else if let Some(key) = site {
                writeln!(out, "{email} no longer has a role on {key}")?;
            } else {
                writeln!(out, "{email} removed")?;
            }
        }
        UserCommand::List { site } => {
            let site_id = match &site {
                Some(key) => Some(site_record(store, key).await?.id),
                None => None,
            };
            let users = store.users(site_id).await?;
            if json {
                let list: Vec<_> = users
                    .iter()
                    .map(|u| {
                        let roles: Vec<_> = u
                            .roles
                            .iter()
                            .map(|(key, role)| serde_json::json!({ "site": key, "role": role.as_str() }))
                            .collect();
                        serde_json::json!({ "email": u.email, "created_at": u.created_at, "roles": roles })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::json!({ "users": list }))?;
            } else {
                for u in users {
                    let roles: Vec<String> = u
                        .roles
                        .iter()
                        .map(|(key, role)| format!("{} on {key}", role.as_str()))
                        .collect();
                    writeln!(
                        out,
                        "{}\tcreated {}\t{}",
                        u.email,
                        u.created_at,
                        roles.join(", ")
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn email_arg(email: &str) -> anyhow::Result<String> {
    let email = email.trim().to_lowercase();
    if !(email.contains('@') && email.len() <= 254) {
        bail!("--email: {email:?} is not an e-mail address");
    }
    Ok(email)
}

/// The password from standard input or the environment, at least 10 characters.
fn read_password(args: PasswordArgs) -> anyhow::Result<Option<String>> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        args.password
    };
    if let Some(p) = &password {
        let n = p.chars().count();
        if n < 10 {
            bail!("the password must have at least 10 characters");
        }
        if n > crate::auth::MAX_PASSWORD_CHARS {
            bail!(
                "the password must have at most {} characters",
                crate::auth::MAX_PASSWORD_CHARS
            );
        }
    }
    Ok(password)
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Editor => Role::Editor,
            RoleArg::Admin => Role::Admin,
        }
    }
}
