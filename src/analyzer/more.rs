//! "Explain more": a second, AI-written explanation of a check that already has a result,
//! asked on the student's request. It goes through the process's one AI client (its concurrency
//! limit, circuit breaker, guardrails and cache) like every other AI call.

use super::extract::ExtractedError;
use super::{Analyzer, Explanation, Failure};
use crate::ai::{AiClient, AiError};
use crate::check::CheckResult;
use crate::i18n::t;
use crate::registry::Locale;
use crate::sandbox::LanguagePack;

/// The error in a stored result, as the analyzer sees it; `None` when there is nothing to
/// explain (the program ran fine, or no error could be found).
pub fn error_of(
    pack: &LanguagePack,
    result: &CheckResult,
    code: &str,
    locale: Locale,
    check_id: i64,
) -> Option<ExtractedError> {
    let file_name = pack.file_name_for(code);
    let failure = Failure {
        language: &pack.name,
        verdict: result.verdict,
        exit_code: result.exit_code,
        signal: result.signal.as_deref(),
        stderr: &result.stderr,
        python_report: None,
        code,
        file_name: &file_name,
        output_limit_hit: result.truncated,
        timeout_s: pack.run_limits.timeout_s,
        memory_mb: pack.run_limits.memory_mb,
        output_kb: pack.run_limits.output_kb,
        locale,
        check_id: Some(check_id),
    };
    Analyzer::error_of(&failure)
}

/// Asks the AI to explain `error` in the student's language.
pub async fn explain_more(
    ai: &AiClient,
    language: &str,
    error: &ExtractedError,
    code: &str,
    locale: Locale,
) -> Result<Explanation, AiError> {
    let answer = ai.explain(language, locale, error, code).await?;
    Ok(Explanation {
        source: "ai".into(),
        error_type: error.error_type.clone(),
        line: error.line,
        title: t(locale, "analyzer.ai.title"),
        text: answer.text,
        source_line: error.source_line.clone(),
        ..Default::default()
    })
}
