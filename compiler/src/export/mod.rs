//! Exporters (in progress).
