//! Cluster concerns: who this node is, whether it runs alone or as part of a
//! multiconnect deployment, and (in a deployment) the heartbeats, the master
//! lease and the shard map, all kept in PostgreSQL.

pub mod node;
pub mod plan;
pub mod runtime;

pub use node::{DeploymentMode, NodeIdentity};
pub use runtime::{Cluster, ForgetTokensHook, Hooks, Member, ReloadHook, SnapshotHook, lease_ttl};
