/**
 * The canned responses a demo store starts with: a few for everyone, a few per team
 * (1-based index into DEMO_TEAMS). Placeholders are filled in when an agent inserts one.
 */
export const CANNED_RESPONSES: { title: string; team: number | null; body: string }[] = [
  {
    title: 'Thanks, looking into it',
    team: null,
    body: 'Hi {{customer.first_name}},\n\nThanks for getting in touch. I am looking into this now and will update you shortly.\n\n{{agent.first_name}}'
  },
  {
    title: 'Anything else?',
    team: null,
    body: 'Hi {{customer.first_name}},\n\nI hope that sorts it out. If there is anything else, just reply to this message and it comes straight back to us.\n\n{{agent.first_name}}'
  },
  {
    title: 'Need the order number',
    team: null,
    body: 'Hi {{customer.first_name}},\n\nCould you send me the order number (it starts with SHOP-)? Then I can check it right away.\n\n{{agent.first_name}}'
  },
  {
    title: 'Parcel delayed: tracking',
    team: 1,
    body: 'Hi {{customer.first_name}},\n\nI checked order {{order.number}}: the parcel is with the carrier and running a little late. It should reach you within two working days. If it has not arrived by then, reply here and I will send a replacement.\n\n{{agent.first_name}}'
  },
  {
    title: 'Item missing from parcel',
    team: 1,
    body: 'Hi {{customer.first_name}},\n\nSorry that part of order {{order.number}} was missing. I have sent the missing item today at no cost; you will get a tracking link by email.\n\n{{agent.first_name}}'
  },
  {
    title: 'Refund issued',
    team: 2,
    body: 'Hi {{customer.first_name}},\n\nI have refunded order {{order.number}}. The money reaches your account within 3 to 5 working days, depending on your bank.\n\n{{agent.first_name}}'
  },
  {
    title: 'Return label',
    team: 2,
    body: 'Hi {{customer.first_name}},\n\nHere is how to return it: print the label from your account page, pack the item in its original packaging and drop it at any post office. Your refund starts as soon as it reaches us.\n\n{{agent.first_name}}'
  },
  {
    title: 'Points and tiers explained',
    team: 3,
    body: 'Hi {{customer.first_name}},\n\nYou earn one point per dollar on every order once it ships. Tiers follow the points you have earned in total: silver from 2,000, gold from 8,000 and platinum from 20,000. Every 500 points make a $5 voucher.\n\n{{agent.first_name}}'
  }
];
