//! The panel's URL map (after login and the CSRF check): which page area answers which path.

use super::page::{forbidden, not_found};
use super::request::{Req, R};
use super::state::AdminState;
use super::{
    access, accounts, analytics, audit, broadcasts, checks, content, efficacy, registry, submissions, task_tests,
    tasks, users,
};
use crate::store::admins::Session;
use warp::http::Method;

pub async fn route(state: &AdminState, req: &Req, s: &Session) -> R {
    let parts: Vec<&str> = req.path.split('/').filter(|p| !p.is_empty()).collect();
    let post = req.method == Method::POST;
    let superuser = s.admin.superuser;
    match (post, parts.as_slice()) {
        (false, []) => analytics::dashboard(state, s).await,
        (false, ["users"]) => users::list(state, req, s).await,
        (false, ["users.csv"]) => users::csv(state).await,
        (false, ["users", id]) => users::detail(state, s, id).await,
        (true, ["users", "bulk"]) => users::bulk(state, req, s).await,
        (true, ["users", id, action]) => users::act(state, req, s, id, action).await,
        (false, ["access"]) => access::page(state, s).await,
        (true, ["access", "whitelist"]) => access::whitelist_change(state, req, s).await,
        (true, ["access", id, decision]) => access::decide(state, req, s, id, decision).await,
        (false, ["checks"]) => checks::list(state, req, s).await,
        (false, ["checks.csv"]) => checks::csv(state).await,
        (false, ["checks", id]) => checks::detail(state, s, id).await,
        (false, ["settings"]) if superuser => content::settings_page(state, s).await,
        (true, ["settings"]) if superuser => content::settings_save(state, req, s).await,
        (_, ["settings"]) => Ok(forbidden(state, s)),
        (false, ["faq"]) => content::faq_list(state, s).await,
        (false, ["faq", "new"]) => content::faq_new(state, s).await,
        (true, ["faq", "new"]) => content::faq_save(state, req, s, None).await,
        (false, ["faq", id]) => content::faq_edit(state, s, id).await,
        (true, ["faq", id]) => match id.parse::<i64>() {
            Ok(id) => content::faq_save(state, req, s, Some(id)).await,
            Err(_) => Ok(not_found(state, s)),
        },
        (true, ["faq", id, "delete"]) => content::faq_delete(state, req, s, id).await,
        (false, ["audit"]) => audit::page(state, req, s).await,
        (false, ["registry"]) => registry::list(state, req, s).await,
        (false, ["registry", "new"]) => registry::new_form(state, req, s).await,
        (true, ["registry", "new"]) => registry::save(state, req, s, None).await,
        (_, ["registry", "tester"]) => registry::tester(state, req, s).await,
        (false, ["registry", slug]) => registry::edit_form(state, s, slug).await,
        (true, ["registry", slug]) => registry::save(state, req, s, Some(slug)).await,
        (true, ["registry", slug, "delete"]) => registry::delete(state, req, s, slug).await,
        (true, ["registry", slug, "variant"]) => efficacy::save_variant(state, req, s, slug).await,
        (true, ["registry", slug, "promote"]) => efficacy::promote(state, req, s, slug).await,
        (false, ["unmatched"]) => registry::unmatched(state, req, s).await,
        (false, ["admins"]) if superuser => accounts::admins_page(state, s, vec![]).await,
        (true, ["admins"]) if superuser => accounts::create_admin(state, req, s).await,
        (true, ["admins", id, action]) if superuser => accounts::admin_action(state, req, s, id, action).await,
        (false, ["tokens"]) if superuser => accounts::tokens_page(state, s, None, vec![]).await,
        (true, ["tokens"]) if superuser => accounts::create_token(state, req, s).await,
        (true, ["tokens", id, "revoke"]) if superuser => accounts::revoke_token(state, req, s, id).await,
        (_, ["admins" | "tokens", ..]) => Ok(forbidden(state, s)),
        (false, ["analytics"]) => analytics::page(state, s).await,
        (false, ["broadcasts"]) => broadcasts::list(state, s).await,
        (false, ["broadcasts", "new"]) => broadcasts::new_form(state, s).await,
        (true, ["broadcasts", "new"]) => broadcasts::create(state, req, s).await,
        (false, ["broadcasts", id]) => broadcasts::detail(state, s, id, None).await,
        (true, ["broadcasts", id, action]) => broadcasts::act(state, req, s, id, action).await,
        (false, ["tasks"]) => tasks::list(state, s).await,
        (false, ["tasks", "new"]) => tasks::new_form(state, s).await,
        (true, ["tasks", "new"]) => tasks::save(state, req, s, None).await,
        (false, ["tasks", id]) => tasks::edit_form(state, s, id).await,
        (true, ["tasks", id]) => tasks::save(state, req, s, Some(id)).await,
        (true, ["tasks", id, action]) => tasks::act(state, req, s, id, action).await,
        (true, ["tasks", id, "tests", test, action]) => task_tests::act(state, req, s, id, test, action).await,
        (false, ["submissions"]) => submissions::list(state, req, s).await,
        (false, ["submissions.csv"]) => submissions::csv(state).await,
        (false, ["submissions", id]) => submissions::detail(state, s, id).await,
        (false, ["progress"]) => submissions::progress(state, s).await,
        (false, ["password"]) => accounts::password_page(state, s, vec![]).await,
        (true, ["password"]) => accounts::password_save(state, req, s).await,
        (true, ["locale"]) => accounts::set_locale(state, req, s).await,
        _ => Ok(not_found(state, s)),
    }
}
