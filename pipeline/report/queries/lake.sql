-- The lake the warehouse was built from, as the build named it (one row; `_lake` is written
-- by the build beside the lake tables).
select url from _lake
