//! Use cases shared by the web server and the command line: every operation goes through
//! here, so both front doors behave the same.

pub mod accounts;
pub mod audit;
pub mod authz;
pub mod backup;
pub mod catalogue;
pub mod centres;
pub mod certificates;
pub mod competence;
pub mod credentials;
pub mod demo;
pub mod jobs;
pub mod leavers;
pub mod needs;
pub mod occasions;
pub mod people;
pub mod portfolio;
pub mod quality;
pub mod records;
pub mod registration;
pub mod retention;
pub mod rules;
pub mod second_factor;
pub mod tasks;
pub mod version_moves;

use crate::evidence_store::EvidenceStore;
use crate::store::{Store, StoreError};
use credence_domain::model::Specification;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What a server keeps per learner: a value with the key it was made from.
type PerLearner<K, V> = Arc<RwLock<HashMap<i64, (K, Arc<V>)>>>;

/// The application: the store plus what a server keeps in memory (only immutable data).
#[derive(Clone)]
pub struct App {
    pub store: Store,
    published_cache: Arc<RwLock<HashMap<i64, Arc<Specification>>>>,
    /// Believe `X-Forwarded-For` (set when Credence runs behind a load balancer that sets
    /// it); otherwise the connection's own address is the client's.
    pub trust_proxy: bool,
    /// Portfolios as last loaded, by learner, with the stamp they were loaded at.
    portfolio_cache: PerLearner<i64, portfolio::PortfolioRows>,
    /// Portfolios as last computed, by learner, with what they were computed from.
    portfolio_core_cache: PerLearner<String, portfolio::PortfolioCore>,
    /// Portfolio pages' main content as last rendered, by learner, with what it showed.
    pub(crate) portfolio_pages: PerLearner<String, String>,
    /// Where evidence files are kept.
    pub evidence: EvidenceStore,
    /// The largest evidence file accepted, in bytes.
    pub max_upload: u64,
    /// Where the instance's signing key is kept (audit checkpoints); `None` keeps one key
    /// in memory for this application only (tests).
    pub key_file: Option<std::path::PathBuf>,
    ephemeral_key: ed25519_dalek::SigningKey,
    /// Caseload summaries by (learner, viewer), with the stamp they were computed at.
    case_cache: needs::CaseCache,
    /// Who is computing whose caseload now.
    case_gates: needs::CaseGates,
    /// Sends the email jobs' messages (only workers use it).
    pub mailer: Arc<crate::mail::Mailer>,
    /// The address people reach this instance at, for links in emails (and, later, on
    /// certificates): no trailing slash.
    pub public_url: String,
    /// Public certificate lookups per address per minute (verification page, JSON and
    /// credential), counted in memory.
    pub verify_limit: Arc<crate::ratelimit::RateLimiter>,
    /// The key-encryption key that seals the AOs' signing keys: read from a file or the
    /// environment by every server, never stored in the database.
    pub kek: Arc<crate::credential::Kek>,
    /// Where work stops running in the request and becomes a task with its own page.
    pub task_thresholds: tasks::TaskThresholds,
    /// Progress of the tasks this process's workers are running.
    task_progress: tasks::TaskProgress,
}

/// The default limit on public certificate lookups per address per minute.
pub const DEFAULT_VERIFY_LIMIT: u32 = 120;

/// The default upload limit: 4 GiB (a long observation video).
pub const DEFAULT_MAX_UPLOAD: u64 = 4 << 30;

impl App {
    pub fn new(store: Store, evidence: EvidenceStore) -> App {
        App {
            store,
            published_cache: Arc::default(),
            portfolio_cache: Arc::default(),
            portfolio_core_cache: Arc::default(),
            portfolio_pages: Arc::default(),
            trust_proxy: false,
            evidence,
            max_upload: DEFAULT_MAX_UPLOAD,
            key_file: None,
            ephemeral_key: audit::new_signing_key(),
            case_cache: Arc::default(),
            case_gates: Arc::default(),
            mailer: Arc::new(crate::mail::Mailer::folder(
                std::env::temp_dir().join("credence-outbox"),
            )),
            public_url: "http://127.0.0.1:8080".into(),
            verify_limit: Arc::new(crate::ratelimit::RateLimiter::new(DEFAULT_VERIFY_LIMIT)),
            kek: Arc::new(crate::credential::Kek::generate()),
            task_thresholds: tasks::TaskThresholds::default(),
            task_progress: Arc::default(),
        }
    }
}

/// What can go wrong in a use case, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong: the message says what to change.
    #[error("{0}")]
    Validation(String),
    #[error("{0} was not found")]
    NotFound(String),
    /// The request is valid but clashes with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The person may see this but not do it: the message says who can.
    #[error("{0}")]
    Forbidden(String),
    /// An upload over the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts (password guesses): the message says how long to wait.
    #[error("{0}")]
    Limited(String),
    #[error("{0}")]
    Import(#[from] credence_domain::import::ImportError),
    #[error("{0}")]
    Corrections(#[from] credence_domain::corrections::CorrectionError),
    #[error("{0}")]
    Export(#[from] credence_domain::export::ExportError),
    /// Something on our side: details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("the record".into()),
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("stored JSON: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
