"""Results as people read them: tables, formats, plots, the report folder and trainers' configs."""
