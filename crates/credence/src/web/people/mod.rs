//! Pages for people: sign-in, the home page of each role, tokens, centres, registration,
//! learners and the audit log. Access is decided in [`super::access`] before these run.

mod accounts;
mod centres;
mod competence;
mod home;
mod invitations;
mod learners;
mod registration;
mod sign_in;
mod staff;
pub(crate) use staff::ConfirmPage;
mod tokens;

use accounts::*;
use centres::*;
use competence::*;
use home::*;
use invitations::*;
pub(crate) use learners::learner_page_with;
use learners::*;
pub use registration::RegisterForm;
use registration::*;
pub use sign_in::safe_next;
use sign_in::*;
use staff::*;
use tokens::*;

use super::AppState;
use super::access::{CurrentActor, SESSION_COOKIE, client_address};
use super::pages::{PageError, render, render_status};
use crate::app::AppError;
use crate::app::people::{SignInError, role_name};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/sign-in", get(sign_in_form).post(sign_in));
    let r = super::access::route(r, "/sign-out", post(sign_out));
    let r = super::access::route(r, "/password-reset", get(reset_form).post(request_reset));
    let r = super::access::route(
        r,
        "/password-reset/{token}",
        get(reset_link).post(reset_password),
    );
    let r = super::access::route(
        r,
        "/account/email",
        get(email_settings).post(save_email_settings),
    );
    let r = super::access::route(
        r,
        "/centres/{centre}/learners/{learner}/invitation",
        post(invite_learner),
    );
    let r = super::access::route(r, "/people", get(ao_people));
    let r = super::access::route(r, "/people/{person}", get(ao_person));
    let r = super::access::route(
        r,
        "/people/{person}/remove-role",
        get(ao_remove_role_confirm).post(ao_remove_role),
    );
    let r = super::access::route(
        r,
        "/people/{person}/disable",
        get(ao_disable_confirm).post(ao_disable),
    );
    let r = super::access::route(r, "/centres/{centre}/staff/{person}", get(staff_member));
    let r = super::access::route(
        r,
        "/centres/{centre}/staff/{person}/reassign",
        post(reassign),
    );
    let r = super::access::route(
        r,
        "/centres/{centre}/staff/{person}/remove-role",
        get(remove_role_confirm).post(remove_role),
    );
    let r = super::access::route(
        r,
        "/centres/{centre}/staff/{person}/disable",
        get(disable_confirm).post(disable),
    );
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/{registration}/status",
        get(registration_status_confirm).post(registration_status),
    );
    let r = super::access::route(r, "/home", get(home));
    let r = super::access::route(r, "/invitations", post(invite_ao));
    let r = super::access::route(r, "/context", post(switch_context));
    let r = super::access::route(r, "/account/tokens", get(tokens).post(create_token));
    let r = super::access::route(
        r,
        "/account/tokens/{id}/revoke",
        get(revoke_confirm).post(revoke_token),
    );
    let r = super::access::route(r, "/centres", get(centres).post(create_centre));
    let r = super::access::route(r, "/centres/{centre}", get(centre));
    let r = super::access::route(r, "/centres/{centre}/approvals", post(approve));
    let r = super::access::route(r, "/centres/{centre}/audit", get(audit));
    let r = super::access::route(r, "/centres/{centre}/eqa", post(appoint_eqa));
    let r = super::access::route(r, "/centres/{centre}/registrations/new", get(register_form));
    let r = super::access::route(r, "/centres/{centre}/registrations", post(register_one));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/upload",
        post(register_upload),
    );
    let r = super::access::route(r, "/learners/{learner}", get(learner));
    let r = super::access::route(
        r,
        "/account/competence",
        get(competence).post(save_competence),
    );
    let r = super::access::route(r, "/account/competence/cpd", post(add_cpd));
    let r = super::access::route(r, "/account/interests", post(declare_interest));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/{registration}/assignments",
        post(assign),
    );
    let r = super::access::route(r, "/centres/{centre}/invitations", post(invite_staff));
    let r = super::access::route(
        r,
        "/invitations/{token}",
        get(invitation).post(accept_invitation),
    );
    r
}

pub(crate) fn csrf_of(a: &crate::app::people::Actor) -> String {
    a.csrf.clone().unwrap_or_default()
}
