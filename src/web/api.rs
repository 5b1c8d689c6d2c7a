pub fn router() -> axum::Router<super::AppState> {
    axum::Router::new()
}
