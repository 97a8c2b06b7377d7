//! Who may do what: tokens per site, revoked tokens, editors changing the
//! site, dashboard sign-in with a session cookie.

use super::*;
use crate::both;

both!(
    private_routes_need_a_token_for_that_site,
    revoked_tokens_stop_working,
    editors_change_the_site_through_the_api,
    dashboard_users_sign_in_with_a_session_cookie,
);

async fn private_routes_need_a_token_for_that_site(db: Db) {
    let Some(f) = fixture(db).await else { return };
    for path in ["aggregates", "export.csv", "responses.csv"] {
        let uri = format!("/v1/sites/test-shop/{path}");
        let (status, body) = f.get(&uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, _) = f.get(&uri, Some("tpk_wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        let (status, _) = f.get(&uri, Some(&f.viewer)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // A token of another site does not open this one.
    let other = site_file::parse("[site]\nname = \"Other\"").unwrap();
    let (other_key, _) = f
        .state
        .store
        .apply_site(&other, || "other-site".into())
        .await
        .unwrap();
    let (status, body) = f
        .get(
            &format!("/v1/sites/{other_key}/aggregates"),
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = f.get("/v1/sites/nobody/aggregates", Some(&f.viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn revoked_tokens_stop_working(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (status, _) = f
        .get("/v1/sites/test-shop/aggregates", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        f.state
            .store
            .revoke_token(None, Some(&hash_token(&f.viewer)))
            .await
            .unwrap()
    );
    let (status, body) = f
        .get("/v1/sites/test-shop/aggregates", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        !f.state
            .store
            .revoke_token(None, Some(&hash_token(&f.viewer)))
            .await
            .unwrap()
    );
}

async fn editors_change_the_site_through_the_api(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let editor = new_token();
    f.state
        .store
        .add_token(site.id, Role::Editor, &hash_token(&editor))
        .await
        .unwrap();
    let put = |token: String, content_type: &'static str, body: String| {
        let f_state = f.state.clone();
        async move {
            let req = Request::put("/v1/sites/test-shop/site")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap();
            let res = app(f_state).oneshot(req).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };

    let (status, body) = f.get("/v1/sites/test-shop/site", Some(&f.viewer)).await;
    assert_eq!(status, StatusCode::OK);
    let mut file: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(file["site"]["origins"], json!(["https://shop.example"]));
    assert_eq!(file["stage"][1]["id"], "evaluate");

    // A viewer cannot write.
    let (status, body) = put(f.viewer.clone(), "application/json", file.to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // An editor adds an origin; the widget config follows.
    file["site"]["origins"] = json!(["https://shop.example", "https://www.shop.example"]);
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(
        (status, body.clone()),
        (StatusCode::OK, json!({"key": "test-shop", "changed": true}))
    );
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let req = Request::post("/v1/events")
        .header(header::ORIGIN, "https://www.shop.example")
        .body(Body::from(batch(vec![response(1, "/", 9)])))
        .unwrap();
    assert_eq!(f.send(req).await.0, StatusCode::ACCEPTED);

    // The same validation as `touchpoint apply`, field named.
    file["touchpoint"][0]["sample"] = json!(1.5);
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("touchpoint[0].sample"),
        "{body}"
    );
    let (status, body) = put(
        editor.clone(),
        "application/json",
        "{\"site\":{\"name\":\"x\",\"colour\":1}}".into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{body}"
    );
    let other_key = SITE.replace("key = \"test-shop\"", "key = \"someone-else\"");
    let (status, body) = put(editor.clone(), "application/toml", other_key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keys cannot change"),
        "{body}"
    );

    // TOML works too: the same text `touchpoint apply` takes.
    let renamed = SITE.replace("name = \"Test shop\"", "name = \"Test shop (renamed)\"");
    let (status, body) = put(editor, "application/toml", renamed).await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );
    assert_eq!(
        f.state
            .store
            .site_by_key("test-shop")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Test shop (renamed)"
    );
}

async fn dashboard_users_sign_in_with_a_session_cookie(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let hash = touchpoint_server::auth::hash_password("correct horse battery");
    f.state
        .store
        .upsert_user("ann@shop.example", Some(&hash), site.id, Role::Editor)
        .await
        .unwrap();
    let other = site_file::parse("[site]\nname = \"Other\"\nkey = \"other-site\"").unwrap();
    f.state
        .store
        .apply_site(&other, || unreachable!())
        .await
        .unwrap();

    let login = |email: &str, password: &str, https: bool| {
        let mut req = Request::post("/v1/session").header(header::CONTENT_TYPE, "application/json");
        if https {
            req = req.header(header::ORIGIN, "https://feedback.example");
        }
        req.body(Body::from(
            json!({ "email": email, "password": password }).to_string(),
        ))
        .unwrap()
    };
    let (status, _, body) = f
        .send(login("ann@shop.example", "wrong password", false))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, unknown) = f
        .send(login("bob@shop.example", "correct horse battery", false))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown, body,
        "an unknown e-mail and a wrong password look the same"
    );

    let (status, headers, body) = f
        .send(login("  Ann@Shop.example ", "correct horse battery", false))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let session: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        session["sites"],
        json!([{ "key": "test-shop", "name": "Test shop", "role": "editor" }])
    );
    let csrf = session["csrf"].as_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let (_, headers, _) = f
        .send(login("ann@shop.example", "correct horse battery", true))
        .await;
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    let with_cookie = |method: &str, uri: &str, csrf: Option<&str>, body: String| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie);
        if let Some(token) = csrf {
            req = req.header("x-csrf-token", token);
        }
        req.body(Body::from(body)).unwrap()
    };
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/other-site/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no membership, no access");
    let (status, _, body) = f
        .send(with_cookie("GET", "/v1/session", None, String::new()))
        .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap()["email"].as_str()
        ),
        (StatusCode::OK, Some("ann@shop.example"))
    );

    // Writes with a cookie need the CSRF token.
    let (_, _, file) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/site",
            None,
            String::new(),
        ))
        .await;
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            None,
            file.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("csrf_failed"));
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            Some("forged"),
            file.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            Some(&csrf),
            file,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Signing out ends the session.
    let (status, _, _) = f
        .send(with_cookie("DELETE", "/v1/session", None, String::new()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = f
        .send(with_cookie(
            "DELETE",
            "/v1/session",
            Some(&csrf),
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Guessing is slowed down per e-mail.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            f.send(login("carol@shop.example", "guess", false))
                .await
                .0
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(statuses[7], 429, "{statuses:?}");
}
