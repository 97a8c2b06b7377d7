//! A small demo shop with the Touchpoint script tag pasted in, as a site
//! owner would: `/`, `/pricing`, `/product/{id}`, `/cart`, `/checkout`.
//! It is served from its own origin; the script comes from the API's.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use std::sync::Arc;

/// Where the shop finds Touchpoint.
#[derive(Clone, Debug)]
pub struct Shop {
    /// API origin, e.g. `http://127.0.0.1:8080`.
    pub api: String,
    /// The site key from `touchpoint apply`. Empty: the pages come without
    /// the script tag (a baseline for page-impact measurements); the command
    /// queue stub stays, so the pages' own `touchpoint(…)` calls still work.
    pub site: String,
}

struct Product {
    id: u32,
    name: &'static str,
    price: &'static str,
    blurb: &'static str,
    colour: &'static str,
}

const PRODUCTS: [Product; 3] = [
    Product {
        id: 1,
        name: "Trail Runner 2",
        price: "€129",
        blurb: "Light, grippy, made for wet roots and long descents.",
        colour: "#2f7d6d",
    },
    Product {
        id: 42,
        name: "Everyday Pack 20 L",
        price: "€89",
        blurb: "A laptop sleeve, a bottle pocket and nothing you will not use.",
        colour: "#b4532a",
    },
    Product {
        id: 7,
        name: "Merino Tee",
        price: "€59",
        blurb: "Soft, warm when wet, and it does not smell after day three.",
        colour: "#3f4fa0",
    },
];

pub fn app(shop: Shop) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/pricing", get(pricing))
        .route("/product/{id}", get(product))
        .route("/cart", get(cart))
        .route("/checkout", get(checkout))
        .fallback(not_found)
        .with_state(Arc::new(shop))
}

type S = State<Arc<Shop>>;

async fn home(State(shop): S) -> Html<String> {
    let cards: String = PRODUCTS
        .iter()
        .map(|p| {
            format!(
                r#"<a class="card" href="/product/{id}"><div class="swatch" style="background:{colour}"></div><h3>{name}</h3><p>{blurb}</p><strong>{price}</strong></a>"#,
                id = p.id, colour = p.colour, name = p.name, blurb = p.blurb, price = p.price
            )
        })
        .collect();
    page(
        &shop,
        "Demo Shop — gear for the outdoors",
        &format!(
            r#"<section class="hero"><h1>Gear that goes the distance</h1><p>Small range, well made, shipped in two days.</p><a class="button" href="/product/1">Shop the Trail Runner</a></section>
<h2>Best sellers</h2><div class="grid">{cards}</div>
<div class="inline-feedback" data-touchpoint="home-helpful"></div>"#
        ),
    )
}

async fn pricing(State(shop): S) -> Html<String> {
    page(
        &shop,
        "Membership — Demo Shop",
        r#"<h1>Membership</h1><p class="lead">Free returns and early access, whichever way you like to pay.</p>
<div class="grid"><div class="card plain"><h3>Basic</h3><strong>Free</strong><p>Standard shipping, 30-day returns.</p></div>
<div class="card plain"><h3>Plus</h3><strong>€4 / month</strong><p>Free shipping, 90-day returns, early access to drops.</p></div>
<div class="card plain"><h3>Club</h3><strong>€39 / year</strong><p>Everything in Plus and a yearly repair voucher.</p></div></div>"#,
    )
}

async fn product(State(shop): S, Path(id): Path<String>) -> (StatusCode, Html<String>) {
    match PRODUCTS.iter().find(|p| p.id.to_string() == id) {
        Some(p) => (
            StatusCode::OK,
            page(
                &shop,
                &format!("{} — Demo Shop", p.name),
                &format!(
                    r#"<div class="product"><div class="swatch big" style="background:{colour}"></div><div><h1>{name}</h1><p class="lead">{blurb}</p><p class="price">{price}</p><a class="button" href="/cart">Add to cart</a></div></div>"#,
                    colour = p.colour,
                    name = p.name,
                    blurb = p.blurb,
                    price = p.price
                ),
            ),
        ),
        None => (
            StatusCode::NOT_FOUND,
            page(
                &shop,
                "Not found — Demo Shop",
                "<h1>We could not find that product</h1><p><a href=\"/\">Back to the shop</a></p>",
            ),
        ),
    }
}

async fn cart(State(shop): S) -> Html<String> {
    page(
        &shop,
        "Cart — Demo Shop",
        r#"<h1>Your cart</h1><table class="cart"><tr><td>Trail Runner 2, size 42</td><td>€129</td></tr><tr><td>Shipping</td><td>€0</td></tr><tr class="total"><td>Total</td><td>€129</td></tr></table><a class="button" href="/checkout">Checkout</a>"#,
    )
}

async fn checkout(State(shop): S) -> Html<String> {
    page(
        &shop,
        "Checkout — Demo Shop",
        r#"<h1>Checkout</h1><form class="checkout" onsubmit="event.preventDefault();this.querySelector('p.done').hidden=false;touchpoint('track','order_placed')">
<label>Email<input type="email" name="email" autocomplete="email" required></label>
<label>Card number<input name="card" inputmode="numeric" autocomplete="cc-number" required></label>
<button class="button" type="submit">Pay €129</button><p class="done" role="status" hidden>Thank you! Your order is on its way.</p></form>"#,
    )
}

async fn not_found(State(shop): S) -> (StatusCode, Html<String>) {
    (
        StatusCode::NOT_FOUND,
        page(
            &shop,
            "Not found — Demo Shop",
            "<h1>Page not found</h1><p><a href=\"/\">Back to the shop</a></p>",
        ),
    )
}

fn page(shop: &Shop, title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}</style>
<script>window.touchpoint=window.touchpoint||function(){{(touchpoint.q=touchpoint.q||[]).push(arguments)}};</script>
{tag}</head>
<body>
<header><a class="logo" href="/">Demo Shop</a><nav><a href="/">Shop</a><a href="/pricing">Membership</a><a href="/product/42">Packs</a><a href="/cart">Cart (1)</a></nav></header>
<main>{body}</main>
<footer>Demo Shop is a demonstration of Touchpoint. Nothing here is for sale.</footer>
</body>
</html>"#,
        tag = if shop.site.is_empty() {
            String::new()
        } else {
            format!(
                "<script async src=\"{}/t.js\" data-site=\"{}\"></script>\n",
                shop.api, shop.site
            )
        },
    ))
}

const CSS: &str = "
*{box-sizing:border-box}body{margin:0;font:16px/1.5 Georgia,serif;color:#222;background:#faf8f4}
header{display:flex;justify-content:space-between;align-items:center;padding:16px 32px;background:#fff;border-bottom:1px solid #e5e0d8}
.logo{font-weight:700;font-size:20px;color:#222;text-decoration:none}nav a{margin-left:24px;color:#444;text-decoration:none}nav a:hover{color:#000;text-decoration:underline}
main{max-width:960px;margin:0 auto;padding:32px}.inline-feedback{margin-top:32px}footer{text-align:center;color:#555;font-size:14px;padding:32px}
.hero{padding:48px 32px;background:#234;color:#fff;border-radius:12px;margin-bottom:32px}.hero h1{margin:0 0 8px;font-size:40px}
.button{display:inline-block;padding:10px 20px;background:#c4471c;color:#fff;border:0;border-radius:8px;text-decoration:none;font:inherit;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:20px}
.card{display:block;padding:16px;background:#fff;border:1px solid #e5e0d8;border-radius:12px;color:inherit;text-decoration:none}.card:hover{border-color:#999}
.swatch{height:120px;border-radius:8px;margin-bottom:12px}.swatch.big{height:280px;width:320px}
.product{display:flex;gap:32px;flex-wrap:wrap}.lead{font-size:18px;color:#444}.price{font-size:24px;font-weight:700}
.cart{width:100%;max-width:480px;border-collapse:collapse;margin-bottom:24px}.cart td{padding:8px;border-bottom:1px solid #e5e0d8}.cart .total{font-weight:700}
.checkout{display:grid;gap:16px;max-width:360px}.checkout label{display:grid;gap:4px}.checkout input{padding:8px;font:inherit;border:1px solid #aaa;border-radius:6px}
";
