import { defineEvent, type EventDefinition } from '../../modeling/events/define-event.ts';

/** The channels an event (or a customer's registration) comes from, as DOMAIN.md lists them. */
export const wealthChannels = ['app', 'alipay_miniprogram', 'wechat_miniprogram', 'branch', 'web'] as const;

const OWNER = 'wealth-digital-ops';

/** Properties every placement event may carry: what the decision layer showed, and why. */
const placementProperties = {
  content_id: { type: 'string', description: 'The content shown in the placement.' },
  decision_id: { type: 'string', description: 'The `decide` answer that chose the content, for exposure joins.' },
  strategy_id: { type: 'string', description: 'The strategy that matched.' },
  experiment: { type: 'string', description: 'The experiment the customer was assigned in, if any.' },
  variant: { type: 'string', description: 'The experiment arm shown.' },
  position: { type: 'integer', description: 'Slot index within the placement, from 0.' },
} as const;

const purchaseProperties = {
  amount: { type: 'number', required: true, description: 'Order amount in CNY.' },
  order_id: { type: 'string', description: 'The order this event belongs to.' },
  payment_method: { type: 'string', description: 'How the order is paid, e.g. `bank_card`, `balance`.' },
} as const;

export const appOpen = defineEvent({
  name: 'app_open',
  description: 'The app or mini program came to the foreground: the basis of active customers and revisits.',
  owner: OWNER,
  properties: {
    app_version: { type: 'string' },
    os: { type: 'string', description: 'Operating system, e.g. `ios`, `android`, `harmonyos`.' },
    first_launch: { type: 'boolean', description: 'True on the first open after install.' },
  },
});

export const pageView = defineEvent({
  name: 'page_view',
  description: 'A page or screen was shown.',
  owner: OWNER,
  requires: ['page'],
  properties: {
    referrer: { type: 'string', description: 'The page the customer came from.' },
    duration_ms: { type: 'integer', description: 'Time spent on the previous page.' },
  },
});

export const placementImpression = defineEvent({
  name: 'placement_impression',
  description: 'A placement rendered content to the customer: the denominator of placement CTR.',
  owner: OWNER,
  requires: ['placementId'],
  properties: placementProperties,
});

export const placementClick = defineEvent({
  name: 'placement_click',
  description: 'The customer clicked the content of a placement: the numerator of placement CTR.',
  owner: OWNER,
  requires: ['placementId'],
  properties: placementProperties,
});

export const productView = defineEvent({
  name: 'product_view',
  description: 'A product detail page was shown.',
  owner: OWNER,
  requires: ['productId'],
  properties: {
    source: { type: 'string', description: 'Where the customer came from: search, placement, list, share.' },
  },
});

export const purchaseSubmit = defineEvent({
  name: 'purchase_submit',
  description: 'The customer submitted a purchase order: the start of first-purchase success.',
  owner: OWNER,
  requires: ['customerId', 'productId'],
  properties: purchaseProperties,
});

export const purchaseSuccess = defineEvent({
  name: 'purchase_success',
  description: 'A submitted purchase was confirmed.',
  owner: OWNER,
  requires: ['customerId', 'productId'],
  properties: purchaseProperties,
});

export const register = defineEvent({
  name: 'register',
  description: 'A visitor opened an account; customerId is the new customer, anonymousId the visitor before.',
  owner: OWNER,
  requires: ['customerId'],
  properties: {
    method: { type: 'string', description: 'Sign-up route, e.g. `mobile`, `wechat`, `alipay`.' },
    invite_code: { type: 'string', description: 'Referral code entered at sign-up.' },
    mobile_number: { type: 'string', sensitivity: 'personal', description: 'Verified mobile number; personal data.' },
  },
});

export const login = defineEvent({
  name: 'login',
  description: 'A customer signed in.',
  owner: OWNER,
  requires: ['customerId'],
  properties: {
    method: {
      type: 'string',
      allowedValues: ['password', 'sms', 'biometric', 'wechat', 'alipay'],
      description: 'How the customer authenticated.',
    },
  },
});

/** Every behaviour event of the bundled wealth domain, served in `catalog.events`. */
export const wealthEvents: readonly EventDefinition[] = Object.freeze([
  appOpen,
  pageView,
  placementImpression,
  placementClick,
  productView,
  purchaseSubmit,
  purchaseSuccess,
  register,
  login,
]);
