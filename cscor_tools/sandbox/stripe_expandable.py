"""Which properties of each Stripe object may be expanded, from Stripe's OpenAPI spec.

Generated from the ``x-expandableFields`` of every object schema in
``shared/specs/stripe/spec3.STALE-2022-04-12.json`` (tests/sandbox/test_stripe_account_and_expand.py
derives the same table from the spec and fails if the two differ). One block per object: the
object's name, then a line per expandable property: its name, its kind and the objects it may
hold (a continuation line carries on the list):

- ``ref``: an id that expands to one of the objects (``customer``, ``charge``…);
- ``obj``: an embedded object, sent as is, whose own properties may expand further
  (``invoice_settings.default_payment_method``);
- ``array``: an array of embedded objects (``total_tax_amounts.tax_rate`` expands in each);
- ``list``: a list object (``sources``), expanded through ``data.`` (``sources.data.customer``).
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["ref", "obj", "array", "list"]

_TABLE = """
account
  business_profile obj account_business_profile
  capabilities obj account_capabilities
  company obj legal_entity_company
  controller obj account_unification_account_controller
  external_accounts list bank_account card
  future_requirements obj account_future_requirements
  individual obj person
  requirements obj account_requirements
  settings obj account_settings
  tos_acceptance obj account_tos_acceptance
account_branding_settings
  icon ref file
  logo ref file
account_business_profile
  support_address obj address
account_capability_future_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
account_capability_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
account_card_issuing_settings
  tos_acceptance obj card_issuing_account_terms_of_service
account_card_payments_settings
  decline_on obj account_decline_charge_on
account_future_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
account_payout_settings
  schedule obj transfer_schedule
account_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
account_settings
  bacs_debit_payments obj account_bacs_debit_payments_settings
  branding obj account_branding_settings
  card_issuing obj account_card_issuing_settings
  card_payments obj account_card_payments_settings
  dashboard obj account_dashboard_settings
  payments obj account_payments_settings
  payouts obj account_payout_settings
  sepa_debit_payments obj account_sepa_debit_payments_settings
alipay_account
  customer ref customer deleted_customer
api_errors
  payment_intent obj payment_intent
  payment_method obj payment_method
  setup_intent obj setup_intent
  source obj bank_account card source
application_fee
  account ref account
  application ref application
  balance_transaction ref balance_transaction
  charge ref charge
  originating_transaction ref charge
  refunds list fee_refund
balance
  available array balance_amount
  connect_reserved array balance_amount
  instant_available array balance_amount
  issuing obj balance_detail
  pending array balance_amount
balance_amount
  source_types obj balance_amount_by_source_type
balance_detail
  available array balance_amount
balance_transaction
  fee_details array fee
  source ref application_fee charge connect_collection_transfer dispute fee_refund
      issuing.authorization issuing.dispute issuing.transaction payout platform_tax_fee refund
      reserve_transaction tax_deducted_at_source topup transfer transfer_reversal
bank_account
  account ref account
  customer ref customer deleted_customer
billing_details
  address obj address
billing_portal.configuration
  business_profile obj portal_business_profile
  features obj portal_features
billing_portal.session
  configuration ref billing_portal.configuration
bitcoin_receiver
  transactions list bitcoin_transaction
capability
  account ref account
  future_requirements obj account_capability_future_requirements
  requirements obj account_capability_requirements
card
  account ref account
  customer ref customer deleted_customer
  recipient ref recipient
card_generated_from_payment_method_details
  card_present obj payment_method_details_card_present
charge
  application ref application
  application_fee ref application_fee
  balance_transaction ref balance_transaction
  billing_details obj billing_details
  customer ref customer deleted_customer
  failure_balance_transaction ref balance_transaction
  fraud_details obj charge_fraud_details
  invoice ref invoice
  on_behalf_of ref account
  order ref order
  outcome obj charge_outcome
  payment_intent ref payment_intent
  payment_method_details obj payment_method_details
  refunds list refund
  review ref review
  shipping obj shipping
  source_transfer ref transfer
  transfer ref transfer
  transfer_data obj charge_transfer_data
charge_outcome
  rule ref rule
charge_transfer_data
  destination ref account
checkout.session
  after_expiration obj payment_pages_checkout_session_after_expiration
  automatic_tax obj payment_pages_checkout_session_automatic_tax
  consent obj payment_pages_checkout_session_consent
  consent_collection obj payment_pages_checkout_session_consent_collection
  customer ref customer deleted_customer
  customer_details obj payment_pages_checkout_session_customer_details
  line_items list item
  payment_intent ref payment_intent
  payment_link ref payment_link
  payment_method_options obj checkout_session_payment_method_options
  phone_number_collection obj payment_pages_checkout_session_phone_number_collection
  setup_intent ref setup_intent
  shipping obj shipping
  shipping_address_collection obj payment_pages_checkout_session_shipping_address_collection
  shipping_options array payment_pages_checkout_session_shipping_option
  shipping_rate ref shipping_rate
  subscription ref subscription
  tax_id_collection obj payment_pages_checkout_session_tax_id_collection
  total_details obj payment_pages_checkout_session_total_details
checkout_acss_debit_payment_method_options
  mandate_options obj checkout_acss_debit_mandate_options
checkout_session_payment_method_options
  acss_debit obj checkout_acss_debit_payment_method_options
  boleto obj checkout_boleto_payment_method_options
  konbini obj checkout_konbini_payment_method_options
  oxxo obj checkout_oxxo_payment_method_options
  us_bank_account obj checkout_us_bank_account_payment_method_options
connect_collection_transfer
  destination ref account
country_spec
  verification_fields obj country_spec_verification_fields
country_spec_verification_fields
  company obj country_spec_verification_field_details
  individual obj country_spec_verification_field_details
coupon
  applies_to obj coupon_applies_to
credit_note
  customer ref customer deleted_customer
  customer_balance_transaction ref customer_balance_transaction
  discount_amounts array discounts_resource_discount_amount
  invoice ref invoice
  lines list credit_note_line_item
  refund ref refund
  tax_amounts array credit_note_tax_amount
credit_note_line_item
  discount_amounts array discounts_resource_discount_amount
  tax_amounts array credit_note_tax_amount
  tax_rates array tax_rate
credit_note_tax_amount
  tax_rate ref tax_rate
customer
  address obj address
  default_source ref alipay_account bank_account bitcoin_receiver card source
  discount obj discount
  invoice_settings obj invoice_setting_customer_setting
  shipping obj shipping
  sources list alipay_account bank_account bitcoin_receiver card source
  subscriptions list subscription
  tax obj customer_tax
  tax_ids list tax_id
  test_clock ref test_helpers.test_clock
customer_acceptance
  offline obj offline_acceptance
  online obj online_acceptance
customer_balance_transaction
  credit_note ref credit_note
  customer ref customer
  invoice ref invoice
customer_tax
  location obj customer_tax_location
deleted_discount
  coupon obj coupon
  customer ref customer deleted_customer
  promotion_code ref promotion_code
discount
  coupon obj coupon
  customer ref customer deleted_customer
  promotion_code ref promotion_code
discounts_resource_discount_amount
  discount ref discount deleted_discount
dispute
  balance_transactions array balance_transaction
  charge ref charge
  evidence obj dispute_evidence
  evidence_details obj dispute_evidence_details
  payment_intent ref payment_intent
dispute_evidence
  cancellation_policy ref file
  customer_communication ref file
  customer_signature ref file
  duplicate_charge_documentation ref file
  receipt ref file
  refund_policy ref file
  service_documentation ref file
  shipping_documentation ref file
  uncategorized_file ref file
event
  data obj notification_event_data
  request obj notification_event_request
fee_refund
  balance_transaction ref balance_transaction
  fee ref application_fee
file
  links list file_link
file_link
  file ref file
gelato_document_report
  address obj address
  dob obj gelato_data_document_report_date_of_birth
  error obj gelato_document_report_error
  expiration_date obj gelato_data_document_report_expiration_date
  issued_date obj gelato_data_document_report_issued_date
gelato_id_number_report
  dob obj gelato_data_id_number_report_date
  error obj gelato_id_number_report_error
gelato_selfie_report
  error obj gelato_selfie_report_error
gelato_verification_report_options
  document obj gelato_report_document_options
  id_number obj gelato_report_id_number_options
gelato_verification_session_options
  document obj gelato_session_document_options
  id_number obj gelato_session_id_number_options
gelato_verified_outputs
  address obj address
  dob obj gelato_data_verified_outputs_date
identity.verification_report
  document obj gelato_document_report
  id_number obj gelato_id_number_report
  options obj gelato_verification_report_options
  selfie obj gelato_selfie_report
identity.verification_session
  last_error obj gelato_session_last_error
  last_verification_report ref identity.verification_report
  options obj gelato_verification_session_options
  redaction obj verification_session_redaction
  verified_outputs obj gelato_verified_outputs
invoice
  account_tax_ids array tax_id deleted_tax_id
  automatic_tax obj automatic_tax
  charge ref charge
  custom_fields array invoice_setting_custom_field
  customer ref customer deleted_customer
  customer_address obj address
  customer_shipping obj shipping
  customer_tax_ids array invoices_resource_invoice_tax_id
  default_payment_method ref payment_method
  default_source ref alipay_account bank_account bitcoin_receiver card source
  default_tax_rates array tax_rate
  discount obj discount
  discounts array discount deleted_discount
  last_finalization_error obj api_errors
  lines list line_item
  on_behalf_of ref account
  payment_intent ref payment_intent
  payment_settings obj invoices_payment_settings
  quote ref quote
  status_transitions obj invoices_status_transitions
  subscription ref subscription
  test_clock ref test_helpers.test_clock
  threshold_reason obj invoice_threshold_reason
  total_discount_amounts array discounts_resource_discount_amount
  total_tax_amounts array invoice_tax_amount
  transfer_data obj invoice_transfer_data
invoice_payment_method_options_acss_debit
  mandate_options obj invoice_payment_method_options_acss_debit_mandate_options
invoice_payment_method_options_customer_balance
  bank_transfer obj invoice_payment_method_options_customer_balance_bank_transfer
invoice_setting_customer_setting
  custom_fields array invoice_setting_custom_field
  default_payment_method ref payment_method
invoice_tax_amount
  tax_rate ref tax_rate
invoice_threshold_reason
  item_reasons array invoice_item_threshold_reason
invoice_transfer_data
  destination ref account
invoiceitem
  customer ref customer deleted_customer
  discounts array discount
  invoice ref invoice
  period obj invoice_line_item_period
  price obj price
  subscription ref subscription
  tax_rates array tax_rate
  test_clock ref test_helpers.test_clock
invoices_line_items_proration_details
  credited_items obj invoices_line_items_credited_items
invoices_payment_method_options
  acss_debit obj invoice_payment_method_options_acss_debit
  bancontact obj invoice_payment_method_options_bancontact
  card obj invoice_payment_method_options_card
  customer_balance obj invoice_payment_method_options_customer_balance
  konbini obj invoice_payment_method_options_konbini
  us_bank_account obj invoice_payment_method_options_us_bank_account
invoices_payment_settings
  payment_method_options obj invoices_payment_method_options
issuer_fraud_record
  charge ref charge
issuing.authorization
  amount_details obj issuing_authorization_amount_details
  balance_transactions array balance_transaction
  card obj issuing.card
  cardholder ref issuing.cardholder
  merchant_data obj issuing_authorization_merchant_data
  pending_request obj issuing_authorization_pending_request
  request_history array issuing_authorization_request
  transactions array issuing.transaction
  verification_data obj issuing_authorization_verification_data
issuing.card
  cardholder obj issuing.cardholder
  replaced_by ref issuing.card
  replacement_for ref issuing.card
  shipping obj issuing_card_shipping
  spending_controls obj issuing_card_authorization_controls
  wallets obj issuing_card_wallets
issuing.cardholder
  billing obj issuing_cardholder_address
  company obj issuing_cardholder_company
  individual obj issuing_cardholder_individual
  requirements obj issuing_cardholder_requirements
  spending_controls obj issuing_cardholder_authorization_controls
issuing.dispute
  balance_transactions array balance_transaction
  evidence obj issuing_dispute_evidence
  transaction ref issuing.transaction
issuing.transaction
  amount_details obj issuing_transaction_amount_details
  authorization ref issuing.authorization
  balance_transaction ref balance_transaction
  card ref issuing.card
  cardholder ref issuing.cardholder
  dispute ref issuing.dispute
  merchant_data obj issuing_authorization_merchant_data
  purchase_details obj issuing_transaction_purchase_details
issuing_authorization_pending_request
  amount_details obj issuing_authorization_amount_details
issuing_authorization_request
  amount_details obj issuing_authorization_amount_details
issuing_card_authorization_controls
  spending_limits array issuing_card_spending_limit
issuing_card_shipping
  address obj address
issuing_card_wallets
  apple_pay obj issuing_card_apple_pay
  google_pay obj issuing_card_google_pay
issuing_cardholder_address
  address obj address
issuing_cardholder_authorization_controls
  spending_limits array issuing_cardholder_spending_limit
issuing_cardholder_id_document
  back ref file
  front ref file
issuing_cardholder_individual
  dob obj issuing_cardholder_individual_dob
  verification obj issuing_cardholder_verification
issuing_cardholder_verification
  document obj issuing_cardholder_id_document
issuing_dispute_canceled_evidence
  additional_documentation ref file
issuing_dispute_duplicate_evidence
  additional_documentation ref file
  card_statement ref file
  cash_receipt ref file
  check_image ref file
issuing_dispute_evidence
  canceled obj issuing_dispute_canceled_evidence
  duplicate obj issuing_dispute_duplicate_evidence
  fraudulent obj issuing_dispute_fraudulent_evidence
  merchandise_not_as_described obj issuing_dispute_merchandise_not_as_described_evidence
  not_received obj issuing_dispute_not_received_evidence
  other obj issuing_dispute_other_evidence
  service_not_as_described obj issuing_dispute_service_not_as_described_evidence
issuing_dispute_fraudulent_evidence
  additional_documentation ref file
issuing_dispute_merchandise_not_as_described_evidence
  additional_documentation ref file
issuing_dispute_not_received_evidence
  additional_documentation ref file
issuing_dispute_other_evidence
  additional_documentation ref file
issuing_dispute_service_not_as_described_evidence
  additional_documentation ref file
issuing_transaction_flight_data
  segments array issuing_transaction_flight_data_leg
issuing_transaction_purchase_details
  flight obj issuing_transaction_flight_data
  fuel obj issuing_transaction_fuel_data
  lodging obj issuing_transaction_lodging_data
  receipt array issuing_transaction_receipt_data
item
  discounts array line_items_discount_amount
  price obj price
  taxes array line_items_tax_amount
legal_entity_company
  address obj address
  address_kana obj legal_entity_japan_address
  address_kanji obj legal_entity_japan_address
  ownership_declaration obj legal_entity_ubo_declaration
  verification obj legal_entity_company_verification
legal_entity_company_verification
  document obj legal_entity_company_verification_document
legal_entity_company_verification_document
  back ref file
  front ref file
legal_entity_person_verification
  additional_document obj legal_entity_person_verification_document
  document obj legal_entity_person_verification_document
legal_entity_person_verification_document
  back ref file
  front ref file
line_item
  discount_amounts array discounts_resource_discount_amount
  discounts array discount
  period obj invoice_line_item_period
  price obj price
  proration_details obj invoices_line_items_proration_details
  tax_amounts array invoice_tax_amount
  tax_rates array tax_rate
line_items_discount_amount
  discount obj discount
line_items_tax_amount
  rate obj tax_rate
mandate
  customer_acceptance obj customer_acceptance
  multi_use obj mandate_multi_use
  payment_method ref payment_method
  payment_method_details obj mandate_payment_method_details
  single_use obj mandate_single_use
mandate_payment_method_details
  acss_debit obj mandate_acss_debit
  au_becs_debit obj mandate_au_becs_debit
  bacs_debit obj mandate_bacs_debit
  card obj card_mandate_payment_method_details
  sepa_debit obj mandate_sepa_debit
  us_bank_account obj mandate_us_bank_account
order
  charge ref charge
  customer ref customer deleted_customer
  items array order_item
  returns list order_return
  shipping obj shipping
  shipping_methods array shipping_method
  status_transitions obj status_transitions
order_item
  parent ref sku
order_return
  items array order_item
  order ref order
  refund ref refund
payment_intent
  application ref application
  automatic_payment_methods obj payment_flows_automatic_payment_methods_payment_intent
  charges list charge
  customer ref customer deleted_customer
  invoice ref invoice
  last_payment_error obj api_errors
  next_action obj payment_intent_next_action
  on_behalf_of ref account
  payment_method ref payment_method
  payment_method_options obj payment_intent_payment_method_options
  processing obj payment_intent_processing
  review ref review
  shipping obj shipping
  transfer_data obj transfer_data
payment_intent_card_processing
  customer_notification obj payment_intent_processing_customer_notification
payment_intent_next_action
  alipay_handle_redirect obj payment_intent_next_action_alipay_handle_redirect
  boleto_display_details obj payment_intent_next_action_boleto
  card_await_notification obj payment_intent_next_action_card_await_notification
  konbini_display_details obj payment_intent_next_action_konbini
  oxxo_display_details obj payment_intent_next_action_display_oxxo_details
  paynow_display_qr_code obj payment_intent_next_action_paynow_display_qr_code
  redirect_to_url obj payment_intent_next_action_redirect_to_url
  verify_with_microdeposits obj payment_intent_next_action_verify_with_microdeposits
  wechat_pay_display_qr_code obj payment_intent_next_action_wechat_pay_display_qr_code
  wechat_pay_redirect_to_android_app obj
      payment_intent_next_action_wechat_pay_redirect_to_android_app
  wechat_pay_redirect_to_ios_app obj payment_intent_next_action_wechat_pay_redirect_to_ios_app
payment_intent_next_action_konbini
  stores obj payment_intent_next_action_konbini_stores
payment_intent_next_action_konbini_stores
  familymart obj payment_intent_next_action_konbini_familymart
  lawson obj payment_intent_next_action_konbini_lawson
  ministop obj payment_intent_next_action_konbini_ministop
  seicomart obj payment_intent_next_action_konbini_seicomart
payment_intent_payment_method_options
  acss_debit obj payment_intent_payment_method_options_acss_debit
      payment_intent_type_specific_payment_method_options_client
  afterpay_clearpay obj payment_method_options_afterpay_clearpay
      payment_intent_type_specific_payment_method_options_client
  alipay obj payment_method_options_alipay
      payment_intent_type_specific_payment_method_options_client
  au_becs_debit obj payment_intent_payment_method_options_au_becs_debit
      payment_intent_type_specific_payment_method_options_client
  bacs_debit obj payment_method_options_bacs_debit
      payment_intent_type_specific_payment_method_options_client
  bancontact obj payment_method_options_bancontact
      payment_intent_type_specific_payment_method_options_client
  boleto obj payment_method_options_boleto
      payment_intent_type_specific_payment_method_options_client
  card obj payment_intent_payment_method_options_card
      payment_intent_type_specific_payment_method_options_client
  card_present obj payment_method_options_card_present
      payment_intent_type_specific_payment_method_options_client
  eps obj payment_intent_payment_method_options_eps
      payment_intent_type_specific_payment_method_options_client
  fpx obj payment_method_options_fpx payment_intent_type_specific_payment_method_options_client
  giropay obj payment_method_options_giropay
      payment_intent_type_specific_payment_method_options_client
  grabpay obj payment_method_options_grabpay
      payment_intent_type_specific_payment_method_options_client
  ideal obj payment_method_options_ideal
      payment_intent_type_specific_payment_method_options_client
  interac_present obj payment_method_options_interac_present
      payment_intent_type_specific_payment_method_options_client
  klarna obj payment_method_options_klarna
      payment_intent_type_specific_payment_method_options_client
  konbini obj payment_method_options_konbini
      payment_intent_type_specific_payment_method_options_client
  oxxo obj payment_method_options_oxxo
      payment_intent_type_specific_payment_method_options_client
  p24 obj payment_method_options_p24 payment_intent_type_specific_payment_method_options_client
  paynow obj payment_method_options_paynow
      payment_intent_type_specific_payment_method_options_client
  sepa_debit obj payment_intent_payment_method_options_sepa_debit
      payment_intent_type_specific_payment_method_options_client
  sofort obj payment_method_options_sofort
      payment_intent_type_specific_payment_method_options_client
  us_bank_account obj payment_intent_payment_method_options_us_bank_account
      payment_intent_type_specific_payment_method_options_client
  wechat_pay obj payment_method_options_wechat_pay
      payment_intent_type_specific_payment_method_options_client
payment_intent_payment_method_options_acss_debit
  mandate_options obj payment_intent_payment_method_options_mandate_options_acss_debit
payment_intent_payment_method_options_card
  installments obj payment_method_options_card_installments
  mandate_options obj payment_method_options_card_mandate_options
payment_intent_payment_method_options_sepa_debit
  mandate_options obj payment_intent_payment_method_options_mandate_options_sepa_debit
payment_intent_processing
  card obj payment_intent_card_processing
payment_link
  after_completion obj payment_links_resource_after_completion
  automatic_tax obj payment_links_resource_automatic_tax
  line_items list item
  on_behalf_of ref account
  phone_number_collection obj payment_links_resource_phone_number_collection
  shipping_address_collection obj payment_links_resource_shipping_address_collection
  subscription_data obj payment_links_resource_subscription_data
  transfer_data obj payment_links_resource_transfer_data
payment_links_resource_after_completion
  hosted_confirmation obj payment_links_resource_completion_behavior_confirmation_page
  redirect obj payment_links_resource_completion_behavior_redirect
payment_links_resource_transfer_data
  destination ref account
payment_method
  acss_debit obj payment_method_acss_debit
  afterpay_clearpay obj payment_method_afterpay_clearpay
  alipay obj payment_flows_private_payment_methods_alipay
  au_becs_debit obj payment_method_au_becs_debit
  bacs_debit obj payment_method_bacs_debit
  bancontact obj payment_method_bancontact
  billing_details obj billing_details
  boleto obj payment_method_boleto
  card obj payment_method_card
  card_present obj payment_method_card_present
  customer ref customer
  eps obj payment_method_eps
  fpx obj payment_method_fpx
  giropay obj payment_method_giropay
  grabpay obj payment_method_grabpay
  ideal obj payment_method_ideal
  interac_present obj payment_method_interac_present
  klarna obj payment_method_klarna
  konbini obj payment_method_konbini
  oxxo obj payment_method_oxxo
  p24 obj payment_method_p24
  paynow obj payment_method_paynow
  sepa_debit obj payment_method_sepa_debit
  sofort obj payment_method_sofort
  us_bank_account obj payment_method_us_bank_account
  wechat_pay obj payment_method_wechat_pay
payment_method_card
  checks obj payment_method_card_checks
  generated_from obj payment_method_card_generated_card
  networks obj networks
  three_d_secure_usage obj three_d_secure_usage
  wallet obj payment_method_card_wallet
payment_method_card_generated_card
  payment_method_details obj card_generated_from_payment_method_details
  setup_attempt ref setup_attempt
payment_method_card_wallet
  amex_express_checkout obj payment_method_card_wallet_amex_express_checkout
  apple_pay obj payment_method_card_wallet_apple_pay
  google_pay obj payment_method_card_wallet_google_pay
  masterpass obj payment_method_card_wallet_masterpass
  samsung_pay obj payment_method_card_wallet_samsung_pay
  visa_checkout obj payment_method_card_wallet_visa_checkout
payment_method_card_wallet_masterpass
  billing_address obj address
  shipping_address obj address
payment_method_card_wallet_visa_checkout
  billing_address obj address
  shipping_address obj address
payment_method_details
  ach_credit_transfer obj payment_method_details_ach_credit_transfer
  ach_debit obj payment_method_details_ach_debit
  acss_debit obj payment_method_details_acss_debit
  afterpay_clearpay obj payment_method_details_afterpay_clearpay
  alipay obj payment_flows_private_payment_methods_alipay_details
  au_becs_debit obj payment_method_details_au_becs_debit
  bacs_debit obj payment_method_details_bacs_debit
  bancontact obj payment_method_details_bancontact
  boleto obj payment_method_details_boleto
  card obj payment_method_details_card
  card_present obj payment_method_details_card_present
  eps obj payment_method_details_eps
  fpx obj payment_method_details_fpx
  giropay obj payment_method_details_giropay
  grabpay obj payment_method_details_grabpay
  ideal obj payment_method_details_ideal
  interac_present obj payment_method_details_interac_present
  klarna obj payment_method_details_klarna
  konbini obj payment_method_details_konbini
  multibanco obj payment_method_details_multibanco
  oxxo obj payment_method_details_oxxo
  p24 obj payment_method_details_p24
  paynow obj payment_method_details_paynow
  sepa_debit obj payment_method_details_sepa_debit
  sofort obj payment_method_details_sofort
  stripe_account obj payment_method_details_stripe_account
  us_bank_account obj payment_method_details_us_bank_account
  wechat obj payment_method_details_wechat
  wechat_pay obj payment_method_details_wechat_pay
payment_method_details_bancontact
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
payment_method_details_card
  checks obj payment_method_details_card_checks
  installments obj payment_method_details_card_installments
  three_d_secure obj three_d_secure_details
  wallet obj payment_method_details_card_wallet
payment_method_details_card_installments
  plan obj payment_method_details_card_installments_plan
payment_method_details_card_present
  receipt obj payment_method_details_card_present_receipt
payment_method_details_card_wallet
  amex_express_checkout obj payment_method_details_card_wallet_amex_express_checkout
  apple_pay obj payment_method_details_card_wallet_apple_pay
  google_pay obj payment_method_details_card_wallet_google_pay
  masterpass obj payment_method_details_card_wallet_masterpass
  samsung_pay obj payment_method_details_card_wallet_samsung_pay
  visa_checkout obj payment_method_details_card_wallet_visa_checkout
payment_method_details_card_wallet_masterpass
  billing_address obj address
  shipping_address obj address
payment_method_details_card_wallet_visa_checkout
  billing_address obj address
  shipping_address obj address
payment_method_details_ideal
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
payment_method_details_interac_present
  receipt obj payment_method_details_interac_present_receipt
payment_method_details_konbini
  store obj payment_method_details_konbini_store
payment_method_details_sofort
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
payment_method_klarna
  dob obj payment_flows_private_payment_methods_klarna_dob
payment_method_options_card_installments
  available_plans array payment_method_details_card_installments_plan
  plan obj payment_method_details_card_installments_plan
payment_method_sepa_debit
  generated_from obj sepa_debit_generated_from
payment_pages_checkout_session_after_expiration
  recovery obj payment_pages_checkout_session_after_expiration_recovery
payment_pages_checkout_session_customer_details
  address obj address
  tax_ids array payment_pages_checkout_session_tax_id
payment_pages_checkout_session_shipping_option
  shipping_rate ref shipping_rate
payment_pages_checkout_session_total_details
  breakdown obj payment_pages_checkout_session_total_details_resource_breakdown
payment_pages_checkout_session_total_details_resource_breakdown
  discounts array line_items_discount_amount
  taxes array line_items_tax_amount
payout
  balance_transaction ref balance_transaction
  destination ref bank_account card deleted_bank_account deleted_card
  failure_balance_transaction ref balance_transaction
  original_payout ref payout
  reversed_by ref payout
person
  address obj address
  address_kana obj legal_entity_japan_address
  address_kanji obj legal_entity_japan_address
  dob obj legal_entity_dob
  future_requirements obj person_future_requirements
  relationship obj person_relationship
  requirements obj person_requirements
  verification obj legal_entity_person_verification
person_future_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
person_requirements
  alternatives array account_requirements_alternative
  errors array account_requirements_error
plan
  product ref product deleted_product
  tiers array plan_tier
  transform_usage obj transform_usage
portal_features
  customer_update obj portal_customer_update
  invoice_history obj portal_invoice_list
  payment_method_update obj portal_payment_method_update
  subscription_cancel obj portal_subscription_cancel
  subscription_pause obj portal_subscription_pause
  subscription_update obj portal_subscription_update
portal_subscription_cancel
  cancellation_reason obj portal_subscription_cancellation_reason
portal_subscription_update
  products array portal_subscription_update_product
price
  product ref product deleted_product
  recurring obj recurring
  tiers array price_tier
  transform_quantity obj transform_quantity
product
  package_dimensions obj package_dimensions
  tax_code ref tax_code
promotion_code
  coupon obj coupon
  customer ref customer deleted_customer
  restrictions obj promotion_codes_resource_restrictions
quote
  automatic_tax obj quotes_resource_automatic_tax
  computed obj quotes_resource_computed
  customer ref customer deleted_customer
  default_tax_rates array tax_rate
  discounts array discount
  from_quote obj quotes_resource_from_quote
  invoice ref invoice deleted_invoice
  invoice_settings obj invoice_setting_quote_setting
  line_items list item
  on_behalf_of ref account
  status_transitions obj quotes_resource_status_transitions
  subscription ref subscription
  subscription_data obj quotes_resource_subscription_data
  subscription_schedule ref subscription_schedule
  test_clock ref test_helpers.test_clock
  total_details obj quotes_resource_total_details
  transfer_data obj quotes_resource_transfer_data
quotes_resource_computed
  recurring obj quotes_resource_recurring
  upfront obj quotes_resource_upfront
quotes_resource_from_quote
  quote ref quote
quotes_resource_recurring
  total_details obj quotes_resource_total_details
quotes_resource_total_details
  breakdown obj quotes_resource_total_details_resource_breakdown
quotes_resource_total_details_resource_breakdown
  discounts array line_items_discount_amount
  taxes array line_items_tax_amount
quotes_resource_transfer_data
  destination ref account
quotes_resource_upfront
  line_items list item
  total_details obj quotes_resource_total_details
radar.early_fraud_warning
  charge ref charge
  payment_intent ref payment_intent
radar.value_list
  list_items list radar.value_list_item
recipient
  active_account obj bank_account
  cards list card
  default_card ref card
  migrated_to ref account
  rolled_back_from ref account
refund
  balance_transaction ref balance_transaction
  charge ref charge
  failure_balance_transaction ref balance_transaction
  next_action obj refund_next_action
  payment_intent ref payment_intent
  source_transfer_reversal ref transfer_reversal
  transfer_reversal ref transfer_reversal
refund_next_action
  display_details obj refund_next_action_display_details
refund_next_action_display_details
  email_sent obj email_sent
reporting.report_run
  parameters obj financial_reporting_finance_report_run_run_parameters
  result obj file
review
  charge ref charge
  ip_address_location obj radar_review_resource_location
  payment_intent ref payment_intent
  session obj radar_review_resource_session
scheduled_query_run
  error obj sigma_scheduled_query_run_error
  file obj file
sepa_debit_generated_from
  charge ref charge
  setup_attempt ref setup_attempt
setup_attempt
  application ref application
  customer ref customer deleted_customer
  on_behalf_of ref account
  payment_method ref payment_method
  payment_method_details obj setup_attempt_payment_method_details
  setup_error obj api_errors
  setup_intent ref setup_intent
setup_attempt_payment_method_details
  acss_debit obj setup_attempt_payment_method_details_acss_debit
  au_becs_debit obj setup_attempt_payment_method_details_au_becs_debit
  bacs_debit obj setup_attempt_payment_method_details_bacs_debit
  bancontact obj setup_attempt_payment_method_details_bancontact
  boleto obj setup_attempt_payment_method_details_boleto
  card obj setup_attempt_payment_method_details_card
  card_present obj setup_attempt_payment_method_details_card_present
  ideal obj setup_attempt_payment_method_details_ideal
  sepa_debit obj setup_attempt_payment_method_details_sepa_debit
  sofort obj setup_attempt_payment_method_details_sofort
  us_bank_account obj setup_attempt_payment_method_details_us_bank_account
setup_attempt_payment_method_details_bancontact
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
setup_attempt_payment_method_details_card
  three_d_secure obj three_d_secure_details
setup_attempt_payment_method_details_card_present
  generated_card ref payment_method
setup_attempt_payment_method_details_ideal
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
setup_attempt_payment_method_details_sofort
  generated_sepa_debit ref payment_method
  generated_sepa_debit_mandate ref mandate
setup_intent
  application ref application
  customer ref customer deleted_customer
  last_setup_error obj api_errors
  latest_attempt ref setup_attempt
  mandate ref mandate
  next_action obj setup_intent_next_action
  on_behalf_of ref account
  payment_method ref payment_method
  payment_method_options obj setup_intent_payment_method_options
  single_use_mandate ref mandate
setup_intent_next_action
  redirect_to_url obj setup_intent_next_action_redirect_to_url
  verify_with_microdeposits obj setup_intent_next_action_verify_with_microdeposits
setup_intent_payment_method_options
  acss_debit obj setup_intent_payment_method_options_acss_debit
      setup_intent_type_specific_payment_method_options_client
  card obj setup_intent_payment_method_options_card
  sepa_debit obj setup_intent_payment_method_options_sepa_debit
      setup_intent_type_specific_payment_method_options_client
  us_bank_account obj setup_intent_payment_method_options_us_bank_account
      setup_intent_type_specific_payment_method_options_client
setup_intent_payment_method_options_acss_debit
  mandate_options obj setup_intent_payment_method_options_mandate_options_acss_debit
setup_intent_payment_method_options_card
  mandate_options obj setup_intent_payment_method_options_card_mandate_options
setup_intent_payment_method_options_sepa_debit
  mandate_options obj setup_intent_payment_method_options_mandate_options_sepa_debit
shipping
  address obj address
shipping_method
  delivery_estimate obj delivery_estimate
shipping_rate
  delivery_estimate obj shipping_rate_delivery_estimate
  fixed_amount obj shipping_rate_fixed_amount
  tax_code ref tax_code
shipping_rate_delivery_estimate
  maximum obj shipping_rate_delivery_estimate_bound
  minimum obj shipping_rate_delivery_estimate_bound
sku
  inventory obj sku_inventory
  package_dimensions obj package_dimensions
  product ref product
source
  code_verification obj source_code_verification_flow
  owner obj source_owner
  receiver obj source_receiver_flow
  redirect obj source_redirect_flow
  source_order obj source_order
source_mandate_notification
  acss_debit obj source_mandate_notification_acss_debit_data
  bacs_debit obj source_mandate_notification_bacs_debit_data
  sepa_debit obj source_mandate_notification_sepa_debit_data
  source obj source
source_order
  items array source_order_item
  shipping obj shipping
source_owner
  address obj address
  verified_address obj address
source_transaction
  ach_credit_transfer obj source_transaction_ach_credit_transfer_data
  chf_credit_transfer obj source_transaction_chf_credit_transfer_data
  gbp_credit_transfer obj source_transaction_gbp_credit_transfer_data
  paper_check obj source_transaction_paper_check_data
  sepa_credit_transfer obj source_transaction_sepa_credit_transfer_data
subscription
  automatic_tax obj subscription_automatic_tax
  billing_thresholds obj subscription_billing_thresholds
  customer ref customer deleted_customer
  default_payment_method ref payment_method
  default_source ref alipay_account bank_account bitcoin_receiver card source
  default_tax_rates array tax_rate
  discount obj discount
  items list subscription_item
  latest_invoice ref invoice
  pause_collection obj subscriptions_resource_pause_collection
  payment_settings obj subscriptions_resource_payment_settings
  pending_invoice_item_interval obj subscription_pending_invoice_item_interval
  pending_setup_intent ref setup_intent
  pending_update obj subscriptions_resource_pending_update
  schedule ref subscription_schedule
  test_clock ref test_helpers.test_clock
  transfer_data obj subscription_transfer_data
subscription_item
  billing_thresholds obj subscription_item_billing_thresholds
  price obj price
  tax_rates array tax_rate
subscription_payment_method_options_card
  mandate_options obj invoice_mandate_options_card
subscription_schedule
  current_phase obj subscription_schedule_current_phase
  customer ref customer deleted_customer
  default_settings obj subscription_schedules_resource_default_settings
  phases array subscription_schedule_phase_configuration
  subscription ref subscription
  test_clock ref test_helpers.test_clock
subscription_schedule_add_invoice_item
  price ref price deleted_price
  tax_rates array tax_rate
subscription_schedule_configuration_item
  billing_thresholds obj subscription_item_billing_thresholds
  price ref price deleted_price
  tax_rates array tax_rate
subscription_schedule_phase_configuration
  add_invoice_items array subscription_schedule_add_invoice_item
  automatic_tax obj schedules_phase_automatic_tax
  billing_thresholds obj subscription_billing_thresholds
  coupon ref coupon deleted_coupon
  default_payment_method ref payment_method
  default_tax_rates array tax_rate
  invoice_settings obj invoice_setting_subscription_schedule_setting
  items array subscription_schedule_configuration_item
  transfer_data obj subscription_transfer_data
subscription_schedules_resource_default_settings
  automatic_tax obj subscription_schedules_resource_default_settings_automatic_tax
  billing_thresholds obj subscription_billing_thresholds
  default_payment_method ref payment_method
  invoice_settings obj invoice_setting_subscription_schedule_setting
  transfer_data obj subscription_transfer_data
subscription_transfer_data
  destination ref account
subscriptions_resource_payment_method_options
  acss_debit obj invoice_payment_method_options_acss_debit
  bancontact obj invoice_payment_method_options_bancontact
  card obj subscription_payment_method_options_card
  customer_balance obj invoice_payment_method_options_customer_balance
  konbini obj invoice_payment_method_options_konbini
  us_bank_account obj invoice_payment_method_options_us_bank_account
subscriptions_resource_payment_settings
  payment_method_options obj subscriptions_resource_payment_method_options
subscriptions_resource_pending_update
  subscription_items array subscription_item
tax_id
  customer ref customer
  verification obj tax_id_verification
terminal.location
  address obj address
terminal.reader
  action obj terminal_reader_reader_resource_reader_action
  location ref terminal.location
terminal_reader_reader_resource_cart
  line_items array terminal_reader_reader_resource_line_item
terminal_reader_reader_resource_process_payment_intent_action
  payment_intent ref payment_intent
terminal_reader_reader_resource_process_setup_intent_action
  setup_intent ref setup_intent
terminal_reader_reader_resource_reader_action
  process_payment_intent obj terminal_reader_reader_resource_process_payment_intent_action
  process_setup_intent obj terminal_reader_reader_resource_process_setup_intent_action
  set_reader_display obj terminal_reader_reader_resource_set_reader_display_action
terminal_reader_reader_resource_set_reader_display_action
  cart obj terminal_reader_reader_resource_cart
three_d_secure
  card obj card
token
  bank_account obj bank_account
  card obj card
topup
  balance_transaction ref balance_transaction
  source obj source
transfer
  balance_transaction ref balance_transaction
  destination ref account
  destination_payment ref charge
  reversals list transfer_reversal
  source_transaction ref charge
transfer_data
  destination ref account
transfer_reversal
  balance_transaction ref balance_transaction
  destination_payment_refund ref refund
  source_refund ref refund
  transfer ref transfer
usage_record_summary
  period obj period
"""


def _parse(text: str) -> dict[str, dict[str, tuple[Kind, tuple[str, ...]]]]:
    table: dict[str, dict[str, tuple[Kind, tuple[str, ...]]]] = {}
    fields: dict[str, tuple[Kind, tuple[str, ...]]] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        words = line.split()
        if not line.startswith(" "):
            fields = table.setdefault(words[0], {})
        elif line.startswith("      "):
            kind, held = fields[last]
            fields[last] = (kind, held + tuple(words))
        else:
            last = words[0]
            fields[last] = (words[1], tuple(words[2:]))  # type: ignore[assignment]
    return table


#: object name → expandable property → (kind, names of the objects it may hold)
EXPANDABLE = _parse(_TABLE)
