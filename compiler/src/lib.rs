//! Importers, checker, lowering and exporters: from what users write to the checked IR.
