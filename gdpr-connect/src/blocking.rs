//! File work (exports, folder scans, archives) off the async executor.

use gdpr_core::store::StoreError;

/// Runs `work` on tokio's blocking thread pool and returns its result.
/// `operation` names the work in the error when the thread stops
/// unexpectedly (a panic), e.g. `"export worker"`.
///
/// # Errors
/// What `work` returns; [`StoreError::Local`] when the thread panicked.
pub async fn blocking<T: Send + 'static>(
    operation: &'static str,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::Local {
            operation,
            detail: "the worker thread stopped unexpectedly".into(),
        })?
}
