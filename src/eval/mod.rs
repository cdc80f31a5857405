//! `jambo-worker eval`: quality metrics on labelled data sets (the data sets are read from the
//! path given; the product never needs them).

pub mod cranfield;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data set is missing or not in the expected format (bad input: exit code 2).
    #[error("eval data: {0}")]
    Data(String),
    /// The system under evaluation failed.
    #[error("eval: {0}")]
    Failed(String),
}
