/**
 * Support conversations for the demo tickets. Placeholders: {first} customer's first name,
 * {agent} agent's first name, {order} order number, {product} a product from that order.
 */

/** The moment in an order's life a conversation is about; null when it is not about an order. */
export type OrderMoment = 'ordered' | 'shipped' | 'delivered' | 'refunded' | 'cancelled';

export interface SupportTopic {
  key: string;
  /** 1-based index into DEMO_TEAMS. */
  team: number;
  weight: number;
  about: OrderMoment | null;
  /** When the customer writes, in hours after the order moment (negative: before it). */
  delayHours: readonly [number, number];
  tags: readonly string[];
  subjects: readonly string[];
  openings: readonly string[];
  /** The agent's first and intermediate answers. */
  replies: readonly string[];
  /** Questions that leave the ticket waiting for the customer. */
  asks: readonly string[];
  followUps: readonly string[];
  resolutions: readonly string[];
  notes: readonly string[];
}

export const SUPPORT_TOPICS: readonly SupportTopic[] = [
  {
    key: 'where-is-my-order', team: 1, weight: 14, about: 'shipped', delayHours: [60, 200],
    tags: ['shipping', 'delay'],
    subjects: ['Where is my order {order}?', 'Order {order} has not arrived yet', 'Tracking for {order} has not updated in days'],
    openings: [
      'Hi, I ordered the {product} over a week ago and the tracking still says in transit. Can you check where order {order} is?',
      'Hello, my order {order} was supposed to arrive by now. The tracking link has not moved since it left the warehouse. Could you look into it?',
      'Hi there, any news on {order}? I need the {product} for a birthday this weekend.'
    ],
    replies: [
      'Hi {first}, thanks for your patience. I checked with the carrier: your parcel is at the regional sorting centre and should be delivered within 2 business days.',
      'Hi {first}, sorry about the wait. The carrier has a backlog in your area; I have asked them to prioritise your parcel and I am keeping an eye on it.'
    ],
    asks: ['Hi {first}, could you confirm the delivery address on the order and whether a neighbour might have taken the parcel in?'],
    followUps: ['Thanks. The tracking still shows the same status though.', 'OK, I will wait until Friday. If it is not here by then, can you send a replacement?'],
    resolutions: [
      'Good news {first}: the carrier confirms order {order} was delivered this morning. Enjoy your {product}!',
      'I have shipped a replacement with express delivery at no cost to you; the new tracking number is on its way by email.'
    ],
    notes: ['Carrier portal shows the parcel stuck at the hub for 4 days; opened a trace with the carrier.', 'Address verified, nothing wrong on our side.']
  },
  {
    key: 'damaged-item', team: 1, weight: 8, about: 'delivered', delayHours: [2, 72],
    tags: ['shipping', 'damaged'],
    subjects: ['{product} arrived damaged', 'Broken item in order {order}', 'Damaged parcel - order {order}'],
    openings: [
      'My order {order} arrived today but the box was crushed and the {product} is damaged. I have photos if you need them.',
      'Hi, unfortunately the {product} from order {order} came broken. Very disappointed as it was a gift.'
    ],
    replies: [
      'Hi {first}, I am so sorry the {product} arrived damaged. Could you send a photo of the item and the box so I can file a claim with the carrier?',
      'Thanks for the photos, {first}. That is clearly transit damage and not something you should have to deal with.'
    ],
    asks: ['Hi {first}, so sorry about this. Could you reply with a photo of the damaged item and the outer box? Then I can arrange a replacement right away.'],
    followUps: ['Photos attached. The corner of the box was completely crushed.', 'Here you go. Do I need to send the broken one back?'],
    resolutions: [
      'A replacement {product} is on its way with express shipping, and there is no need to return the damaged one. Sorry again for the trouble!',
      'I have refunded the {product} in full to your original payment method; you should see it within 3-5 business days.'
    ],
    notes: ['Carrier damage claim filed, reference attached to the order.', 'Third damage report from this route this month, flagged to logistics.']
  },
  {
    key: 'wrong-address', team: 1, weight: 4, about: 'ordered', delayHours: [0.2, 20],
    tags: ['shipping', 'address'],
    subjects: ['Change delivery address for {order}', 'Wrong address on order {order}'],
    openings: [
      'Hi, I just noticed order {order} is going to my old address. Can you change it before it ships?',
      'I made a typo in the street number on order {order}. Is it too late to fix it?'
    ],
    replies: ['Hi {first}, thanks for letting us know quickly. The order has not left the warehouse yet, so I can still update it.'],
    asks: ['Hi {first}, no problem. Could you reply with the full correct address, including the apartment number?'],
    followUps: ['The correct address is on my account now, the one marked default.', 'It is apartment 4B, same building. Thank you!'],
    resolutions: ['Done: order {order} will ship to the corrected address. You will get tracking as soon as it leaves the warehouse.'],
    notes: ['Updated the shipping label before pick; warehouse confirmed.']
  },
  {
    key: 'missing-item', team: 1, weight: 5, about: 'delivered', delayHours: [2, 48],
    tags: ['shipping', 'missing-item'],
    subjects: ['Item missing from order {order}', 'Only part of my order arrived'],
    openings: [
      'My parcel for order {order} arrived but the {product} was not in it. The packing slip lists it though.',
      'Hi, I received my order today but one item is missing. Was it shipped separately?'
    ],
    replies: ['Hi {first}, sorry about that. I checked the warehouse record: the {product} was packed separately and should arrive in a second parcel.'],
    asks: ['Hi {first}, sorry to hear that. Could you check whether a second, smaller parcel arrived, and send a photo of the packing slip?'],
    followUps: ['No second parcel so far. Here is the packing slip.', 'Still nothing after two more days.'],
    resolutions: ['I have sent the missing {product} by express delivery today. Thanks for your patience, {first}.'],
    notes: ['Pick list shows the item scanned, but package weight is 300 g short. Reshipping.']
  },
  {
    key: 'cancel-order', team: 1, weight: 4, about: 'cancelled', delayHours: [-3, -0.1],
    tags: ['orders', 'cancellation'],
    subjects: ['Please cancel order {order}', 'Cancel my order'],
    openings: [
      'Hi, I ordered the wrong size by mistake. Please cancel order {order}.',
      'Can you cancel {order}? I found I already have one at home.'
    ],
    replies: ['Hi {first}, I can help with that. The order has not been packed yet, so cancelling is no problem.'],
    asks: ['Hi {first}, do you want me to cancel the whole order or only the {product}?'],
    followUps: ['The whole order please.', 'Just cancel everything, thanks.'],
    resolutions: ['Order {order} is cancelled and the payment authorisation has been released. It can take a few days to disappear from your statement.'],
    notes: ['Cancelled before pick, no restocking needed.']
  },
  {
    key: 'return-request', team: 2, weight: 9, about: 'delivered', delayHours: [24, 240],
    tags: ['returns'],
    subjects: ['Return request for {order}', 'How do I return the {product}?', 'Return label needed'],
    openings: [
      'Hi, the {product} is not quite what I expected. How do I return it?',
      'I would like to return the {product} from order {order}. It is unused and still in the box.'
    ],
    replies: ['Hi {first}, no problem at all. I have emailed you a prepaid return label; just drop the parcel at any carrier point.'],
    asks: ['Hi {first}, happy to help. Could you tell me the reason for the return, so I can pick the right label for you?'],
    followUps: ['It is just too big for my space.', 'I dropped it off yesterday, here is the receipt.'],
    resolutions: ['We received your return and the refund for the {product} has been issued. Thanks, {first}!'],
    notes: ['Return within the 30-day window, refund approved.', 'Item inspected: unused, back to stock.']
  },
  {
    key: 'refund-status', team: 2, weight: 6, about: 'refunded', delayHours: [24, 120],
    tags: ['refunds'],
    subjects: ['Refund for {order} not received', 'Where is my refund?'],
    openings: [
      'Hi, I got an email that my refund for order {order} was processed but I do not see it on my card.',
      'It has been a few days since you confirmed the refund for {order}, still nothing in my account.'
    ],
    replies: ['Hi {first}, I checked and the refund left us on our side. Banks usually take 3-5 business days to show it.'],
    asks: ['Hi {first}, could you tell me the last four digits of the card used, so I can match the refund with the payment provider?'],
    followUps: ['It is the Visa ending 4242.', 'OK, I will check again on Monday.'],
    resolutions: ['The payment provider confirms the refund settled yesterday; here is the reference number for your bank if you need it.'],
    notes: ['Refund settled per payment provider dashboard.']
  },
  {
    key: 'exchange-size', team: 2, weight: 5, about: 'delivered', delayHours: [24, 160],
    tags: ['returns', 'exchange'],
    subjects: ['Exchange {product} for another size', 'Wrong size - can I swap it?'],
    openings: [
      'The {product} fits a bit small. Can I exchange it for one size up?',
      'Hi, could I swap the {product} from order {order} for a different colour?'
    ],
    replies: ['Hi {first}, of course. I have reserved the new size for you and sent a return label for the original.'],
    asks: ['Hi {first}, which size and colour would you like instead? I will check stock right away.'],
    followUps: ['One size up, same colour please.', 'The navy one if you have it.'],
    resolutions: ['Your exchange has shipped; you will get the tracking number by email. Enjoy!'],
    notes: ['Exchange approved, no price difference.']
  },
  {
    key: 'defective', team: 2, weight: 5, about: 'delivered', delayHours: [72, 600],
    tags: ['returns', 'defect', 'warranty'],
    subjects: ['{product} stopped working', 'Faulty {product}', 'Warranty claim for order {order}'],
    openings: [
      'The {product} I bought stopped working after a few weeks of normal use. Is this covered?',
      'Hi, my {product} has a defect - it was fine at first but now it does not work properly.'
    ],
    replies: ['Hi {first}, sorry it let you down. That is covered by our two-year warranty.'],
    asks: ['Hi {first}, sorry to hear that. Could you describe what happens, or send a short video? That helps our product team.'],
    followUps: ['Video attached, you can see the problem at the end.', 'It happens every time I use it.'],
    resolutions: ['I have approved a warranty replacement; the new {product} ships today and you can keep or recycle the faulty one.'],
    notes: ['Known issue with an early batch, replacement approved without return.', 'Logged for the product team.']
  },
  {
    key: 'double-charge', team: 2, weight: 3, about: 'ordered', delayHours: [6, 72],
    tags: ['billing'],
    subjects: ['Charged twice for {order}', 'Duplicate payment on my card'],
    openings: [
      'I see two charges for order {order} on my statement. Can you check please?',
      'Hi, it looks like I was charged twice. Only one order arrived.'
    ],
    replies: ['Hi {first}, thanks for flagging this. The second line is a pending authorisation that will drop off automatically.'],
    asks: ['Hi {first}, could you send a screenshot of the two charges (you can hide the card number)?'],
    followUps: ['Screenshot attached.', 'It is still there today.'],
    resolutions: ['The duplicate authorisation has been voided with the payment provider; it should disappear within 2 business days.'],
    notes: ['Payment provider shows one capture and one expired authorisation.']
  },
  {
    key: 'missing-points', team: 3, weight: 6, about: 'shipped', delayHours: [72, 400],
    tags: ['loyalty', 'points'],
    subjects: ['Points missing for order {order}', 'Loyalty points not credited'],
    openings: [
      'I did not get loyalty points for order {order}. Can you add them?',
      'Hi, my points balance did not change after my last purchase ({order}).'
    ],
    replies: ['Hi {first}, points are credited when the order ships. Order {order} has shipped, so let me check the ledger.'],
    asks: ['Hi {first}, could you confirm the email address on your loyalty account? It might be linked to a different one.'],
    followUps: ['It is the same email I am writing from.', 'I have two accounts, maybe that is it?'],
    resolutions: ['I found it: the points for {order} are now on your account. Thanks for letting us know!'],
    notes: ['Points were posted to the account; customer looked at the app before sync.']
  },
  {
    key: 'redeem-help', team: 3, weight: 4, about: null, delayHours: [0, 0],
    tags: ['loyalty', 'redeem'],
    subjects: ['How do I use my points?', 'Voucher code not working', 'Redeem points at checkout'],
    openings: [
      'I have quite a few points now. How do I turn them into a voucher?',
      'The voucher I got for my points says invalid at checkout. Can you help?'
    ],
    replies: ['Hi {first}, you can redeem points in multiples of 500 from the Rewards page; each 500 points is worth $5.'],
    asks: ['Hi {first}, could you send the voucher code and a screenshot of the error?'],
    followUps: ['The code starts with RW-, screenshot attached.', 'Thanks, can I combine two vouchers?'],
    resolutions: ['I have reissued the voucher and tested it: it works now. One voucher per order, and it never expires.'],
    notes: ['Voucher was issued in the wrong currency; reissued.']
  },
  {
    key: 'tier-question', team: 3, weight: 2, about: null, delayHours: [0, 0],
    tags: ['loyalty', 'tier'],
    subjects: ['When do I reach Gold?', 'Question about loyalty tiers'],
    openings: [
      'How many points do I need for the next tier, and what do I get?',
      'Hi, do my tier benefits include free shipping?'
    ],
    replies: ['Hi {first}, tiers follow lifetime points: Silver from 2,000, Gold from 8,000 and Platinum from 20,000.'],
    asks: ['Hi {first}, which benefit are you interested in? I can check how close you are.'],
    followUps: ['Mainly free shipping.', 'Does it reset every year?'],
    resolutions: ['Lifetime points never reset, and Silver and above include free standard shipping. Happy shopping!'],
    notes: ['Customer close to the next tier; mentioned the current double-points week.']
  },
  {
    key: 'login-problem', team: 3, weight: 5, about: null, delayHours: [0, 0],
    tags: ['account', 'login'],
    subjects: ['Cannot log in to my account', 'Password reset email not arriving'],
    openings: [
      'I am trying to reset my password but the email never arrives.',
      'My account says locked after too many attempts. Can you unlock it?'
    ],
    replies: ['Hi {first}, I see the reset emails went out; they may be in a spam or promotions folder.'],
    asks: ['Hi {first}, could you confirm the email address you use to sign in?'],
    followUps: ['Found it in spam, but the link has expired now.', 'It is the address I am writing from.'],
    resolutions: ['I have sent a fresh reset link that is valid for 24 hours, and the lock is cleared. You should be able to sign in now.'],
    notes: ['Mail provider was deferring our emails this morning; ops aware.']
  },
  {
    key: 'update-details', team: 3, weight: 3, about: null, delayHours: [0, 0],
    tags: ['account', 'privacy'],
    subjects: ['Unsubscribe from marketing emails', 'Update my email address', 'Delete my data request'],
    openings: [
      'Please stop sending me promotional emails.',
      'I changed my email address. Can you update my account?'
    ],
    replies: ['Hi {first}, done - I have updated your preferences. It can take up to 48 hours for campaigns already scheduled.'],
    asks: ['Hi {first}, for security, could you confirm the postcode of your default address?'],
    followUps: ['Sure, it is the one on my last order.', 'Thanks, will I still get order updates?'],
    resolutions: ['All updated. You will still receive order and delivery emails, but no marketing.'],
    notes: ['Verified identity via postcode before changing the email.']
  }
];

export const CUSTOMER_THANKS = [
  'Perfect, thank you so much!',
  'That worked, thanks {agent}!',
  'Great, appreciate the quick help.',
  'Received it today. Thanks for sorting this out.',
  'All good now, you can close this.',
  'Thanks for your help, much appreciated.'
] as const;

export const CUSTOMER_NUDGES = [
  'Any update on this?',
  'Hello? I have not heard back yet.',
  'Just following up on my message from earlier.',
  'Is anyone looking at this? It is quite urgent for me.'
] as const;

export const AGENT_SIGN_OFFS = [
  '\n\nBest,\n{agent}',
  '\n\nLet me know if there is anything else I can do.\n{agent}',
  '\n\nThanks,\n{agent} - Pulse Support',
  ''
] as const;

export const GENERIC_NOTES = [
  'Customer has contacted us before about a similar issue; keep the tone extra careful.',
  'Checked order history, no other open issues.',
  'VIP customer, OK to offer goodwill points if needed.',
  'Waiting on warehouse confirmation before replying.'
] as const;

export const SYSTEM_MESSAGES = {
  autoAck: 'Auto-reply sent: we received your message and will get back to you within {sla}.',
  assigned: 'Ticket assigned to {agent} ({team}).',
  escalated: 'Priority changed from normal to {priority}.',
  survey: 'Satisfaction survey sent to the customer.'
} as const;
