package blocks

// Interaction ids: the action_id, callback_id and block_id values Holdfast
// puts on buttons, modals and inputs and dispatches on when Slack sends
// them back. They live in one place so no two features can claim the same
// prefix (TestActionIDsAreDistinct).

// Health / alerts.
const (
	ActionHistory    = "alert_history" // value: account id
	ActionClaim      = "alert_claim"   // value: alert id
	ActionPickPrefix = "health_pick_"  // + position; value: account id
	// ActionIntentPrefix + saved, churned or not_intent resolves an
	// account's open statement of intent to cancel; value: account id.
	ActionIntentPrefix = "intent_resolve_"
)

// Dead letters (admins' App Home).
const (
	ActionDeadLetterRetry = "deadletter_retry" // value: kind:id
)

// Churn.
const (
	ActionChurnPickPrefix   = "churn_pick_"            // + position; value: account id
	ActionDebriefSchedule   = "churn_debrief_schedule" // value: churn id
	ActionDebriefOutcome    = "churn_debrief_outcome"  // value: churn id
	ViewChurnRecord         = "churn_record"           // private_metadata: ChurnMeta
	ViewDebriefSchedule     = "churn_debrief_schedule" // private_metadata: churn id
	ViewDebriefOutcome      = "churn_debrief_outcome"  // private_metadata: churn id
	FieldDebriefWhen        = "debrief_when"           // datetimepicker
	FieldDebriefOutcome     = "debrief_outcome"        // what was learned
	FieldProcessChange      = "process_change"         // the one change agreed
	FieldProcessChangeOwner = "process_change_owner"   // users_select
)

// NPS.
const (
	ActionNPSContacted = "nps_contacted"
	ActionNPSRootCause = "nps_root_cause"
	ActionNPSPlan      = "nps_plan"
	ActionNPSEscalate  = "nps_escalate"
	ActionNPSPick      = "nps_pick_" // + position; value: account id

	ViewNPSRootCause = "nps_root_cause"
	ViewNPSPlan      = "nps_plan"

	// Modal block and action ids, read back from view_submission state.
	NPSBlockCause = "nps_cause"
	NPSBlockWords = "nps_words"
	NPSBlockPlan  = "nps_plan_text"
	NPSBlockOwner = "nps_owner"
	NPSBlockDue   = "nps_due"
	NPSInput      = "value" // the action id of every modal input
)

// Offers.
const (
	ActionProposeOffer       = "offer_propose"  // value: account id (churn-risk alert)
	ActionOfferPickPrefix    = "offer_pick_"    // + position; value: account id
	ActionOfferApprovePrefix = "offer_approve_" // + step id; value: step id
	ActionOfferRevisePrefix  = "offer_revise_"  // + step id; value: step id (opens the guidance modal)
	ActionOfferRejectPrefix  = "offer_reject_"  // + step id; value: step id (opens the guidance modal)
	ActionOfferEditPrefix    = "offer_edit_"    // + request id; value: request id (opens the pre-filled form)
	ActionOfferAnswerPrefix  = "offer_answer_"  // + accepted|declined|countered; value: request id
)

// Offers.
const (
	CallbackOfferForm     = "offer_form"     // new offer or revision; private_metadata: OfferFormMeta
	CallbackOfferGuidance = "offer_guidance" // reject / request revision; private_metadata: OfferGuidanceMeta
	CallbackOfferCounter  = "offer_counter"  // the customer's counter; private_metadata: request id
)

// Offers.
const (
	OfferBlockType          = "offer_type"
	OfferBlockValue         = "offer_value"
	OfferBlockDuration      = "offer_duration"
	OfferBlockTerms         = "offer_terms"
	OfferBlockJustification = "offer_justification"
	OfferBlockCompetitor    = "offer_competitor"
	OfferBlockGuidance      = "offer_guidance_text"
	OfferBlockCounter       = "offer_counter_text"
)

// Rooms.
const (
	ActionReviewOpen = "room_review_open" // value: deal id
	CallbackReview   = "won_deal_review"  // private_metadata: deal id
	CallbackSaveNote = "save_to_account"  // the message shortcut and its modal

	// The won deal review's inputs; each input's action id is its block
	// id + "_in".
	ReviewBlockDecisionMaker = "rv_dm"
	ReviewBlockChampion      = "rv_champion"
	ReviewBlockChampionTitle = "rv_champion_title"
	ReviewBlockChampionSince = "rv_champion_since"
	ReviewBlockCloseReason   = "rv_close_reason"
	ReviewBlockConcerns      = "rv_concerns"
	ReviewBlockCompetitors   = "rv_competitors"
	ReviewBlockARR           = "rv_arr"
	ReviewBlockTerm          = "rv_term"
	ReviewBlockRenewal       = "rv_renewal"
	ReviewBlockSegment       = "rv_segment"
	ReviewBlockPromisePrefix = "rv_p" // + position + "_kind", "_text" or "_due"

	// The save-to-account modal's inputs; action ids likewise.
	SaveNoteBlockAccount = "sn_account"
	SaveNoteBlockText    = "sn_text"
	SaveNoteBlockCase    = "sn_case"
)

// Win-back.
const (
	ActionWinbackStart   = "winback_start_"   // + offer id; value: offer id
	ActionWinbackOutcome = "winback_outcome_" // + offer id + "_" + outcome; value: "offer id:outcome"
)

// Text alerts.
const ActionTextAlertClaim = "text_alert_claim"

// Feedback on text readings, on every text-driven card; value: signal id.
const (
	ActionTextLabelNotIntent      = "text_label_not_intent"
	ActionTextLabelWrongSentiment = "text_label_wrong_sentiment"
)
