package status

// The series the sampler reads. A missing series leaves its numbers empty.
const (
	mConsumed    = "sluice_events_consumed_total"
	mPredictions = "sluice_predictions_produced_total"
	mDeadLetters = "sluice_dead_letters_total"
	mEndToEnd    = "sluice_end_to_end_latency_seconds"
	mInference   = "sluice_inference_seconds"
	mBatchSize   = "sluice_batch_size"
	mLag         = "sluice_consumer_lag_events"
	mQueueDepth  = "sluice_queue_depth"
	mInFlight    = "sluice_in_flight_events"
	mModelInfo   = "sluice_model_info"
	mVersionInfo = "sluice_model_version_info"
	mProvider    = "sluice_inference_provider_info"
	mDriftScore  = "sluice_drift_score"
	mWindows     = "sluice_drift_windows_closed_total"
	mRetrains    = "sluice_retrain_events_total"
	mRefused     = "sluice_model_refused_total"
	mHeld        = "sluice_model_held_info"

	// Live quality, as the quality service stored it for the status page.
	mQualityLabelled    = "sluice_quality_window_labelled"
	mQualityAUC         = "sluice_quality_auc"
	mQualityLogLoss     = "sluice_quality_log_loss"
	mQualityAccuracy    = "sluice_quality_accuracy_ratio"
	mQualityCalibration = "sluice_quality_calibration_error"
	mQualityMAE         = "sluice_quality_mae"
	mQualityRMSE        = "sluice_quality_rmse"
	mQualityHoldout     = "sluice_quality_holdout_auc"
	mQualityDegraded    = "sluice_quality_degraded"
)
