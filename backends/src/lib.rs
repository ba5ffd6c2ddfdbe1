//! Backends: IR to artifacts.
