//! Webhook delivery. For now this holds the retry schedule of the application
//! settings, which the delivery engine is built on. (Which webhook URLs are
//! acceptable is a settings rule: `wabiz_domain::settings::application`.)

pub mod backoff;
