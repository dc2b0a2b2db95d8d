-- CreateEnum
CREATE TYPE "EvaluationStatus" AS ENUM ('queued', 'running', 'completed', 'failed');

-- CreateTable
CREATE TABLE "Evaluation" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "status" "EvaluationStatus" NOT NULL DEFAULT 'queued',
    "value" DOUBLE PRECISION,
    "result" JSONB,
    "datasetId" TEXT NOT NULL,
    "extractor" TEXT NOT NULL,
    "extractorName" TEXT,
    "extractorSha256" TEXT,
    "resize" TEXT,
    "generatedSamples" INTEGER NOT NULL,
    "realSamples" INTEGER NOT NULL,
    "realSplit" TEXT NOT NULL,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Evaluation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Evaluation_runId_step_idx" ON "Evaluation"("runId", "step");

-- CreateIndex
CREATE INDEX "Evaluation_datasetId_metric_status_value_idx" ON "Evaluation"("datasetId", "metric", "status", "value");

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
