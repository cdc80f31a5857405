//! Triage classification and spam detection through the public interface. The category tests
//! embed with the real local model (scripts/fetch-models.sh; they fail, not skip, without it).

use std::sync::OnceLock;

use jambo_worker::contract::tenant::Category;
use jambo_worker::models::{LocalMiniLm, LocalMiniLmConfig, ModelCache};
use jambo_worker::triage::learn::spam::SpamExample;
use jambo_worker::triage::{
    CategoryConfig, CategoryModel, SpamDetector, SpamInput, learn::spam::SpamConfig,
};

fn model() -> &'static LocalMiniLm {
    static MODEL: OnceLock<LocalMiniLm> = OnceLock::new();
    MODEL.get_or_init(|| {
        LocalMiniLm::load(&ModelCache::from_env(), LocalMiniLmConfig::for_cores(1))
            .unwrap_or_else(|err| panic!("this test needs the local embedding model: {err}"))
    })
}

fn embed(text: &str) -> Vec<f32> {
    model()
        .embed_blocking(&[text.to_owned()])
        .expect("embedding failed")
        .remove(0)
}

fn category(name: &str, description: &str, examples: &[&str]) -> Category {
    Category {
        name: name.to_owned(),
        description: description.to_owned(),
        examples: examples.iter().map(|e| (*e).to_owned()).collect(),
    }
}

/// A small tenant: three categories with examples, one with only a description.
fn tenant() -> Vec<Category> {
    vec![
        category(
            "sales",
            "wants to buy, asks about pricing, plans or a demo",
            &[
                "Can I get a quote for 20 seats?",
                "Do you offer a nonprofit discount?",
                "How much does the enterprise plan cost per year?",
                "I'd like to book a demo for my team next week.",
                "What are your pricing tiers?",
            ],
        ),
        category(
            "support",
            "something is broken or they need help using the product",
            &[
                "I can't log in since this morning, the password reset email never arrives.",
                "The export to CSV button does nothing when I click it.",
                "Your app crashes every time I upload a photo.",
                "How do I add a new user to my account?",
                "The dashboard shows an error 500.",
            ],
        ),
        category(
            "billing",
            "invoices, payments, refunds and charges",
            &[
                "I was charged twice this month, please refund one payment.",
                "Can you send me the invoice for March?",
                "My credit card expired, how do I update it?",
                "Why is my bill higher than last month?",
                "Please cancel my subscription and stop charging me.",
            ],
        ),
        category(
            "careers",
            "job applications: someone wants to work for the company, asks about open positions, internships or sends a CV",
            &[],
        ),
    ]
}

async fn trained() -> CategoryModel {
    CategoryModel::train_for_tenant(&tenant(), model(), &CategoryConfig::default())
        .await
        .expect("training failed")
}

#[tokio::test]
async fn tiny_tenant_classifies_held_out_sentences() {
    let model = trained().await;
    let held_out = [
        ("Could you tell me the price for 50 users?", "sales"),
        ("We are interested in a demo of your product.", "sales"),
        ("I get an error message when I try to sign in.", "support"),
        ("The page keeps freezing when I open settings.", "support"),
        ("I need a refund for the duplicate charge.", "billing"),
        ("Where can I download last month's invoice?", "billing"),
    ];
    for (text, expected) in held_out {
        let p = model.predict(text, &embed(text));
        assert_eq!(p.label, expected, "{text}: {p:?}");
        assert!(p.confidence > 0.0 && p.confidence <= 1.0);
        let runner_up = p.runner_up.expect("four categories have a runner-up");
        assert!(runner_up.confidence <= p.confidence);
    }
}

#[tokio::test]
async fn a_category_with_only_a_description_is_predicted() {
    let model = trained().await;
    let text = "Are you hiring? I would like to apply for a developer position, my CV is attached.";
    let p = model.predict(text, &embed(text));
    assert_eq!(p.label, "careers", "{p:?}");
}

#[tokio::test]
async fn low_confidence_needs_a_human_with_a_reason() {
    let model = trained().await;
    let strict = CategoryConfig {
        min_confidence: 0.99,
        ..CategoryConfig::default()
    };
    let strict_model = CategoryModel::train_for_tenant(&tenant(), model_ref(), &strict)
        .await
        .unwrap();
    let text = "Hello, I have a question about my account and the price.";
    let p = strict_model.predict(text, &embed(text));
    let reason = p.needs_human.expect("below 0.99 needs a human");
    assert!(reason.contains("confidence"), "{reason}");

    // unrelated to every category
    let text = "The weather in Lisbon is lovely in spring.";
    let p = model.predict(text, &embed(text));
    assert!(p.needs_human.is_some(), "{p:?}");
}

fn model_ref() -> &'static LocalMiniLm {
    model()
}

#[tokio::test]
async fn a_trained_model_survives_serialisation() {
    let model = trained().await;
    let json = serde_json::to_string(&model).unwrap();
    let back: CategoryModel = serde_json::from_str(&json).unwrap();
    let text = "How much is the pro plan?";
    let v = embed(text);
    assert_eq!(back.predict(text, &v), model.predict(text, &v));
    let f1 = CategoryModel::fingerprint(&tenant(), "m", &CategoryConfig::default());
    let mut changed = tenant();
    changed[0].examples.push("one more".to_owned());
    assert_ne!(
        f1,
        CategoryModel::fingerprint(&changed, "m", &CategoryConfig::default())
    );
}

/// Replicas do not share trained models: each trains its own from the tenant's settings, so the
/// same settings must give the same model, every weight the same (the training has no
/// randomness; compared as JSON values, as the vocabulary is a map whose order varies).
#[tokio::test]
async fn every_replica_trains_the_same_model_from_the_same_settings() {
    let first = serde_json::to_value(trained().await).unwrap();
    for _ in 0..3 {
        assert_eq!(serde_json::to_value(trained().await).unwrap(), first);
    }
}

#[tokio::test]
async fn classification_never_panics_on_odd_input() {
    let model = trained().await;
    let huge = "pricing ".repeat(200_000);
    for text in [
        "",
        " \n\t",
        "\u{0}\u{202e}\u{fffd}",
        "👍🏽👍🏽👍🏽",
        "مرحبا كيف حالك",
        "Ｆｕｌｌｗｉｄｔｈ",
        huge.as_str(),
    ] {
        let p = model.predict(text, &embed(text));
        assert!(p.confidence.is_finite());
        let _ = model.predict(text, &[]);
    }
}

fn check(
    detector: &SpamDetector,
    text: &str,
    email: Option<&str>,
    fields: &[(&str, &str)],
) -> jambo_worker::triage::SpamVerdict {
    detector.check(&SpamInput {
        text,
        email,
        fields,
        embedding: None,
    })
}

#[test]
fn spam_heuristics_flag_bots_and_spam() {
    let detector = SpamDetector::default();

    let mashing = check(&detector, "asdfgh jkl qwerty sdfsdf", None, &[]);
    assert!(mashing.is_spam, "{mashing:?}");
    assert!(mashing.reasons.iter().any(|r| r.contains("mashing")));

    let links = check(
        &detector,
        "Best deals http://a.example/x http://b.example/y www.cheap-pills.ru visit now https://c.example",
        None,
        &[],
    );
    assert!(links.is_spam, "{links:?}");
    assert!(links.reasons.iter().any(|r| r.contains("link farm")));

    let disposable = check(
        &detector,
        "I would like to know more about your product.",
        Some("someone@mailinator.com"),
        &[],
    );
    assert!(disposable.reasons.iter().any(|r| r.contains("disposable")));

    let offer = check(
        &detector,
        "We offer SEO services and backlinks to get your website on the first page of Google.",
        None,
        &[],
    );
    assert!(offer.is_spam, "{offer:?}");

    let bot_form = check(
        &detector,
        "hello",
        Some("x@example.com"),
        &[("name", "xKjQpLzWmB"), ("company", "xKjQpLzWmB")],
    );
    assert!(bot_form.is_spam, "{bot_form:?}");
    assert!(bot_form.reasons.iter().any(|r| r.contains("identical")));
}

#[test]
fn a_normal_lead_is_not_spam() {
    let detector = SpamDetector::default();
    let lead = check(
        &detector,
        "Hi, we are a team of 25 at Acme GmbH and would like a quote for the Pro plan. \
         Our website is acme.de. Could someone call me tomorrow? Thanks, Jane",
        Some("jane.doe@acme.de"),
        &[
            ("name", "Jane Doe"),
            ("company", "Acme GmbH"),
            ("phone", "+49 30 1234567"),
        ],
    );
    assert!(!lead.is_spam, "{lead:?}");
    assert!(lead.reasons.is_empty(), "{lead:?}");
    let german = check(
        &detector,
        "Guten Tag, wir möchten ein Angebot für zwanzig Arbeitsplätze. Angstschweiß inklusive.",
        None,
        &[],
    );
    assert!(!german.is_spam, "{german:?}");
}

#[test]
fn spam_learned_from_the_tenants_examples() {
    let spam = [
        "Cheap watches for sale, best prices guaranteed",
        "Buy cheap watches today, huge discount",
        "Discount watches, cheap prices, order now",
    ];
    let ham = [
        "Can we schedule a call about the integration?",
        "Please send the contract for our review",
        "We need help configuring the API keys",
    ];
    let examples: Vec<SpamExample<'_>> = spam
        .iter()
        .map(|t| SpamExample {
            text: t,
            is_spam: true,
            embedding: None,
        })
        .chain(ham.iter().map(|t| SpamExample {
            text: t,
            is_spam: false,
            embedding: None,
        }))
        .collect();
    let detector = SpamDetector::train(&examples, SpamConfig::default());
    let watches = check(&detector, "cheap watches, discount prices", None, &[]);
    let call = check(
        &detector,
        "can we schedule a call about the contract",
        None,
        &[],
    );
    assert!(watches.score > call.score, "{watches:?} {call:?}");
    assert!(!call.is_spam);

    // spam examples only: near-copies are flagged
    let only_spam: Vec<SpamExample<'_>> = examples.iter().copied().filter(|e| e.is_spam).collect();
    let detector = SpamDetector::train(&only_spam, SpamConfig::default());
    let copy = check(
        &detector,
        "Buy cheap watches today, huge discount!",
        None,
        &[],
    );
    assert!(copy.is_spam, "{copy:?}");
    assert!(!check(&detector, "Please send the contract", None, &[]).is_spam);
}

#[test]
fn spam_never_panics_on_odd_input() {
    let detector = SpamDetector::default();
    let huge = "x".repeat(1_000_000);
    let words = "buy now www.a.com ".repeat(50_000);
    for text in [
        "",
        " ",
        "\u{0}\u{202e}",
        "👍🏽",
        "ｗｗｗ．ａ．ｃｏｍ",
        huge.as_str(),
        words.as_str(),
    ] {
        let v = check(&detector, text, Some(text), &[(text, text), ("", "")]);
        assert!(v.score.is_finite() && (0.0..=1.0).contains(&v.score));
    }
    let v = check(&detector, "hi", Some("@"), &[]);
    assert!(!v.is_spam);
}
