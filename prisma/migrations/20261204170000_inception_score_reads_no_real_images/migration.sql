-- The Inception Score reads no real images: its scores store 0 and 'none', so scores of one IS
-- protocol rank together whatever real-image settings their requests carried.
UPDATE "Evaluation" SET "realSamples" = 0, "realSplit" = 'none' WHERE "metric" = 'is';
