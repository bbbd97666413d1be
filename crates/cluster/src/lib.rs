//! Cluster concerns: who this node is, and whether it runs alone or as part of a
//! multiconnect deployment. Leases, shards and heartbeats will live here.

pub mod node;

pub use node::{DeploymentMode, NodeIdentity};
