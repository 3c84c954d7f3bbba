//! W-9 / W-8 data imported from spreadsheets, and IRS TIN Matching results (being written).
