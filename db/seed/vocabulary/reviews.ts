/** Review texts by star rating (index 1-5). {product} is the product's noun in lower case. */

export const REVIEW_TITLES: Record<number, readonly string[]> = {
  1: ['Very disappointed', 'Broke within a week', 'Not as described', 'Would not buy again', 'Waste of money'],
  2: ['Not great', 'Expected more for the price', 'Mediocre quality', 'Okay at best', 'Some issues'],
  3: ['It is fine', 'Decent but not amazing', 'Does the job', 'Average', 'Mixed feelings'],
  4: ['Really good', 'Very happy with it', 'Great value', 'Nice quality', 'Almost perfect'],
  5: ['Absolutely love it', 'Exceeded my expectations', 'Perfect!', 'Best purchase this year', 'Five stars, no doubt']
};

export const REVIEW_OPENINGS: Record<number, readonly string[]> = {
  1: [
    'The {product} arrived with a defect and customer service took days to answer.',
    'I really wanted to like this {product}, but it fell apart almost immediately.',
    'The {product} looks nothing like the photos.'
  ],
  2: [
    'The {product} works, but the quality feels cheaper than I expected.',
    'Not bad, but the {product} has a few annoying flaws.',
    'The {product} is smaller than it looks online.'
  ],
  3: [
    'The {product} is okay for the price.',
    'Does what it says, nothing more. The {product} is fine.',
    'Decent {product}, though I have seen better.'
  ],
  4: [
    'Solid {product} with good attention to detail.',
    'I have used the {product} for a few weeks now and it holds up well.',
    'Good {product}, arrived quickly and well packed.'
  ],
  5: [
    'This {product} is fantastic, exactly what I was looking for.',
    'I bought the {product} as a gift and ended up ordering one for myself.',
    'Outstanding {product}. The quality is obvious the moment you unbox it.'
  ]
};

export const REVIEW_DETAILS: Record<number, readonly string[]> = {
  1: ['The stitching came loose on day two.', 'It stopped working after a handful of uses.', 'The finish was scratched out of the box.'],
  2: ['The colour is duller than pictured.', 'Instructions were confusing.', 'It does the job but feels flimsy.'],
  3: ['Shipping was fast, which I appreciated.', 'Packaging was nice.', 'Would be great if it were a bit cheaper.'],
  4: ['Only wish it came in more colours.', 'Delivery was quick and the packaging was plastic-free.', 'Slightly pricey, but worth it.'],
  5: ['Everyone who sees it asks where I got it.', 'The materials feel premium and it is holding up perfectly.', 'Delivery was faster than promised too.']
};

export const REVIEW_CLOSINGS: Record<number, readonly string[]> = {
  1: ['I am returning it.', 'Cannot recommend.', 'Avoid.'],
  2: ['Probably will not reorder.', 'Two stars for the fast shipping.', 'Look elsewhere if quality matters.'],
  3: ['Good enough for now.', 'Might buy again on sale.', 'Neither great nor terrible.'],
  4: ['Would recommend.', 'Happy with the purchase.', 'Will likely buy again.'],
  5: ['Highly recommend!', 'Already planning my next order.', 'Ten out of ten.']
};
