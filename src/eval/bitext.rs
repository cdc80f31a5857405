//! The shared Bitext customer-support requests (`bitext_cs`) as a labelled lead corpus for
//! `eval triage`: one made-up tenant, an online shop, whose eleven categories are Bitext's, each
//! with a description written here and its first five requests (in file order) as examples;
//! every later request is a chat lead labelled with its category and the team that category is
//! routed to. The leads are interleaved category by category, so `--limit N` covers every
//! category; the first 70 % of each category's leads are the development split, the rest test.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::EvalError;
use super::triage::{Labelled, Labels};
use crate::contract::tenant::TenantSettings;

/// Requests per category kept as the tenant's examples (never evaluated).
const EXAMPLES: usize = 5;

pub(super) const TENANT: &str = "bitext-shop";

/// Bitext's categories: a description a shop would write, and the team it routes to.
const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "ACCOUNT",
        "creating, editing, recovering, switching or deleting a customer account; sign-in and password problems",
        "support",
    ),
    (
        "CANCELLATION_FEE",
        "questions about the fee charged for cancelling an order or a subscription early",
        "billing",
    ),
    (
        "CONTACT",
        "wants to reach customer service or a human agent: phone, chat, e-mail, opening hours",
        "support",
    ),
    (
        "DELIVERY",
        "delivery options, delivery times and tracking of a parcel",
        "orders",
    ),
    (
        "FEEDBACK",
        "a complaint or a review of the service or a product",
        "support",
    ),
    (
        "INVOICE",
        "finding, downloading or checking an invoice or a bill",
        "billing",
    ),
    (
        "NEWSLETTER",
        "subscribing to or unsubscribing from the newsletter",
        "support",
    ),
    (
        "ORDER",
        "placing, changing, cancelling or checking an order",
        "orders",
    ),
    (
        "PAYMENT",
        "payment methods, failed payments and payment problems",
        "billing",
    ),
    (
        "REFUND",
        "asking for a refund, the refund policy, or where a refund is",
        "billing",
    ),
    (
        "SHIPPING_ADDRESS",
        "setting or changing the shipping address",
        "orders",
    ),
];

/// Whether `data` is the Bitext set (a folder holding its CSV, or the CSV itself).
pub(super) fn csv_of(data: &Path) -> Option<std::path::PathBuf> {
    if data.extension().is_some_and(|e| e == "csv") {
        return Some(data.to_owned());
    }
    std::fs::read_dir(data)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "csv")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("Bitext"))
        })
}

/// A corpus: tenant settings by id, and the labelled leads.
pub(super) type Corpus = (BTreeMap<String, Arc<TenantSettings>>, Vec<Labelled>);

/// The tenant and the labelled leads.
pub(super) fn read(csv_path: &Path) -> Result<Corpus, EvalError> {
    let (headers, records) = super::classify::read_csv_table(csv_path)?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| EvalError::Data(format!("{}: no column {name:?}", csv_path.display())))
    };
    let (instruction, category) = (column("instruction")?, column("category")?);
    let mut by_category: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (row, record) in records.iter().enumerate() {
        let (Some(text), Some(label)) = (record.get(instruction), record.get(category)) else {
            continue;
        };
        if CATEGORIES.iter().any(|(name, _, _)| *name == label) && !text.trim().is_empty() {
            by_category
                .entry(label.to_owned())
                .or_default()
                .push((row, text.trim().to_owned()));
        }
    }
    let team = |label: &str| {
        CATEGORIES
            .iter()
            .find(|(name, _, _)| *name == label)
            .map_or("inbox", |(_, _, team)| *team)
    };
    let categories: Vec<_> = CATEGORIES
        .iter()
        .map(|(name, description, _)| {
            let examples: Vec<&str> = by_category
                .get(*name)
                .into_iter()
                .flatten()
                .take(EXAMPLES)
                .map(|(_, t)| t.as_str())
                .collect();
            json!({"name": name, "description": description, "examples": examples})
        })
        .collect();
    let routes: Vec<_> = CATEGORIES
        .iter()
        .map(|(name, _, team)| json!({"when": {"category": name}, "to": team}))
        .collect();
    let settings: TenantSettings = serde_json::from_value(json!({
        "tenant_id": TENANT, "default_route": "support",
        "categories": categories, "routes": routes,
    }))
    .map_err(|e| EvalError::Data(format!("bitext tenant: {e}")))?;
    // per category: the rows after the examples, 70 % dev then test
    let mut queues: Vec<Vec<Labelled>> = Vec::new();
    for (label, rows) in &by_category {
        let pool = &rows[EXAMPLES.min(rows.len())..];
        let dev = pool.len() * 7 / 10;
        let leads = pool
            .iter()
            .enumerate()
            .map(|(i, (row, text))| {
                let lead = serde_json::from_value(json!({
                    "id": format!("bitext-{}", row + 2), "channel": "chat", "body": text,
                    "contact": {"id": format!("bitext-c-{}", row + 2)},
                }))
                .map_err(|e| EvalError::Data(format!("bitext row {}: {e}", row + 2)))?;
                Ok(Labelled {
                    split: if i < dev { "dev" } else { "test" }.to_owned(),
                    tenant_id: TENANT.to_owned(),
                    created_at: None,
                    lead,
                    labels: Labels {
                        category: label.clone(),
                        spam: false,
                        route: team(label).to_owned(),
                        language: "en".to_owned(),
                        email: None,
                        phone: None,
                        name: None,
                        company: None,
                    },
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        queues.push(leads);
    }
    // round-robin over the categories
    let mut leads = Vec::new();
    let longest = queues.iter().map(Vec::len).max().unwrap_or(0);
    let mut iters: Vec<_> = queues.into_iter().map(Vec::into_iter).collect();
    for _ in 0..longest {
        for it in &mut iters {
            if let Some(lead) = it.next() {
                leads.push(lead);
            }
        }
    }
    let tenants = BTreeMap::from([(TENANT.to_owned(), Arc::new(settings))]);
    Ok((tenants, leads))
}
