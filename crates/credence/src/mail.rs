//! Sending email: through an SMTP server (`--smtp-url`), or, with none configured, into the
//! outbox folder as `.eml` files (named in the log), so that nothing is lost. Only the job
//! worker sends: a slow or failing mail server never slows a page.

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// An email to send: plain text.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// The part of message ids after the `@`.
    domain: String,
    /// The longest one send may take (lettre's own timeout covers only connecting).
    timeout: Duration,
}

/// How long one SMTP conversation may take before the send counts as failed (and is retried).
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// Mail through `smtp_url` (`smtp://host:port`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host`), or into `outbox` when there is none.
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        outbox: PathBuf,
        timeout: Duration,
    ) -> Result<Mailer, String> {
        let from: Mailbox = from.parse().map_err(|e| {
            format!("the sender address '{from}' is not an email address ({e}): set --mail-from")
        })?;
        let domain = from.email.domain().to_string();
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        format!(
                            "the SMTP URL '{}' is not usable ({e}): use smtp://host:port, smtp://user:password@host:587?tls=required or smtps://host",
                            crate::store::redact(url)
                        )
                    })?
                    .timeout(Some(timeout))
                    .build(),
            ),
            None => Transport::Folder(outbox),
        };
        Ok(Mailer {
            transport,
            from,
            domain,
            timeout,
        })
    }

    /// A mailer that writes into `outbox` (tests, and instances without SMTP).
    pub fn folder(outbox: PathBuf) -> Mailer {
        Mailer {
            transport: Transport::Folder(outbox),
            from: Mailbox::new(
                Some("Credence".into()),
                lettre::Address::new("no-reply", "credence.localhost")
                    .unwrap_or_else(|_| unreachable_address()),
            ),
            domain: "credence.localhost".into(),
            timeout: DEFAULT_SMTP_TIMEOUT,
        }
    }

    /// Where messages go, for the log: `smtp` or the outbox folder.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "smtp".into(),
            Transport::Folder(p) => format!("the outbox folder {}", p.display()),
        }
    }

    /// The message id a job's email carries: the same on every attempt, so a receiving
    /// system can tell a resend.
    pub fn message_id(&self, job_id: i64) -> String {
        format!("<job-{job_id}@{}>", self.domain)
    }

    /// Send `email`; returns the transport used (`smtp` or `folder`).
    pub async fn send(&self, email: &Email, job_id: i64) -> Result<&'static str, String> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| format!("'{}' is not an email address ({e})", email.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(self.message_id(job_id)))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| format!("could not build the message: {e}"))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                tokio::time::timeout(self.timeout, smtp.send(message))
                    .await
                    .map_err(|_| {
                        format!(
                            "the SMTP server did not finish within {} s",
                            self.timeout.as_secs()
                        )
                    })?
                    .map_err(|e| format!("the SMTP server refused or did not answer: {e}"))?;
                Ok("smtp")
            }
            Transport::Folder(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
                let path = dir.join(format!("{job_id:08}.eml"));
                let bytes = message.formatted();
                let dir2 = path.clone();
                tokio::task::spawn_blocking(move || crate::write_atomically(&dir2, &bytes))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                tracing::info!(
                    "email '{}' written to {} (no SMTP server configured)",
                    email.subject,
                    path.display()
                );
                Ok("folder")
            }
        }
    }
}

fn unreachable_address() -> lettre::Address {
    // `no-reply@credence.localhost` is valid; this is never reached.
    "a@b.c".parse().expect("a valid address")
}
