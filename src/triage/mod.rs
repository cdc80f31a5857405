//! Triage: each lead and conversation classified, summarised, mined for contact and deal
//! fields, routed to a team, and answered from the tenant's knowledge. The engines
//! (`engine::LocalEngine`, `openai::OpenAiEngine`) put the steps together.

pub mod engine;
pub mod openai;
pub mod prompt;
pub mod reply;
pub mod route;
