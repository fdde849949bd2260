/** Words for the demo catalogue: twelve categories, each with its own product nouns and price range. */

export interface CategoryWords {
  name: string;
  /** SKU prefix. */
  code: string;
  nouns: readonly string[];
  materials: readonly string[];
  /** Cheapest and dearest list price, in cents. */
  priceCents: readonly [number, number];
  /** Share of orders that contain this category. */
  popularity: number;
}

export const CATEGORIES: readonly CategoryWords[] = [
  {
    name: 'Apparel', code: 'APP', priceCents: [1500, 12000], popularity: 16,
    nouns: ['T-Shirt', 'Hoodie', 'Denim Jacket', 'Chinos', 'Rain Jacket', 'Wool Sweater', 'Linen Shirt', 'Joggers', 'Puffer Vest', 'Flannel Shirt'],
    materials: ['organic cotton', 'merino wool', 'recycled polyester', 'linen', 'brushed cotton twill']
  },
  {
    name: 'Footwear', code: 'FTW', priceCents: [2500, 18000], popularity: 9,
    nouns: ['Running Shoes', 'Trail Sneakers', 'Leather Boots', 'Loafers', 'Sandals', 'High-Top Sneakers', 'Hiking Boots', 'Slippers'],
    materials: ['full-grain leather', 'breathable knit mesh', 'suede', 'recycled rubber', 'waxed canvas']
  },
  {
    name: 'Home & Kitchen', code: 'KIT', priceCents: [1200, 30000], popularity: 12,
    nouns: ["Chef's Knife", 'Cast Iron Skillet', 'Pour-Over Coffee Set', 'Mug Set', 'Cutting Board', 'Dutch Oven', 'French Press', 'Knife Block', 'Salad Bowl', 'Spice Rack'],
    materials: ['stainless steel', 'enamelled cast iron', 'acacia wood', 'stoneware', 'borosilicate glass']
  },
  {
    name: 'Beauty', code: 'BEA', priceCents: [600, 6000], popularity: 10,
    nouns: ['Face Serum', 'Moisturiser', 'Lip Balm Set', 'Shampoo Bar', 'Hand Cream', 'Sunscreen SPF 50', 'Clay Mask', 'Body Wash'],
    materials: ['aloe vera', 'shea butter', 'hyaluronic acid', 'vitamin C', 'green tea extract']
  },
  {
    name: 'Electronics', code: 'ELE', priceCents: [1500, 35000], popularity: 11,
    nouns: ['Wireless Earbuds', 'Bluetooth Speaker', 'USB-C Charger', 'Power Bank', 'Smart Watch', 'Noise-Cancelling Headphones', 'Phone Case', 'Webcam', 'Mechanical Keyboard'],
    materials: ['anodised aluminium', 'soft-touch polymer', 'tempered glass', 'braided nylon', 'recycled plastic']
  },
  {
    name: 'Outdoor', code: 'OUT', priceCents: [1500, 40000], popularity: 6,
    nouns: ['Camping Tent', 'Sleeping Bag', 'Trekking Poles', 'Water Bottle', 'Daypack', 'Headlamp', 'Camp Stove', 'Hammock'],
    materials: ['ripstop nylon', 'carbon fibre', 'insulated steel', 'water-resistant polyester', 'titanium']
  },
  {
    name: 'Sports & Fitness', code: 'FIT', priceCents: [1000, 15000], popularity: 7,
    nouns: ['Yoga Mat', 'Resistance Bands', 'Kettlebell', 'Foam Roller', 'Jump Rope', 'Dumbbell Pair', 'Gym Bag', 'Cycling Gloves'],
    materials: ['natural rubber', 'cast iron', 'high-density foam', 'neoprene', 'cork']
  },
  {
    name: 'Toys & Games', code: 'TOY', priceCents: [800, 9000], popularity: 7,
    nouns: ['Building Blocks Set', 'Jigsaw Puzzle', 'Board Game', 'Plush Bear', 'Wooden Train Set', 'Card Game', 'Remote Control Car', 'Marble Run'],
    materials: ['FSC-certified wood', 'recycled cardboard', 'soft plush', 'non-toxic plastic', 'beech wood']
  },
  {
    name: 'Books & Stationery', code: 'BKS', priceCents: [500, 6000], popularity: 6,
    nouns: ['Hardcover Notebook', 'Fountain Pen', 'Weekly Planner', 'Watercolour Set', 'Sketchbook', 'Desk Organiser', 'Gel Pen Set'],
    materials: ['acid-free paper', 'brass', 'vegan leather', 'bamboo', 'recycled paper']
  },
  {
    name: 'Pet Supplies', code: 'PET', priceCents: [800, 12000], popularity: 6,
    nouns: ['Dog Bed', 'Cat Tree', 'Leash', 'Chew Toy Set', 'Pet Bowl', 'Grooming Brush', 'Cat Litter Mat'],
    materials: ['memory foam', 'sisal rope', 'reflective nylon', 'natural rubber', 'ceramic']
  },
  {
    name: 'Home Decor', code: 'DEC', priceCents: [1000, 20000], popularity: 6,
    nouns: ['Throw Blanket', 'Scented Candle', 'Table Lamp', 'Wall Mirror', 'Cushion Cover', 'Plant Pot', 'Picture Frame Set', 'Rug'],
    materials: ['chunky knit cotton', 'soy wax', 'brushed brass', 'terracotta', 'jute']
  },
  {
    name: 'Grocery & Gourmet', code: 'GRO', priceCents: [500, 4000], popularity: 4,
    nouns: ['Coffee Beans', 'Loose Leaf Tea', 'Dark Chocolate Box', 'Olive Oil', 'Hot Sauce Trio', 'Granola', 'Honey Jar'],
    materials: ['single-origin beans', 'organic ingredients', 'fair-trade cacao', 'cold-pressed olives', 'wildflower honey']
  }
];

export const PRODUCT_ADJECTIVES = [
  'Classic', 'Essential', 'Premium', 'Everyday', 'Lightweight', 'Organic', 'Vintage', 'Modern', 'Compact', 'Deluxe',
  'Eco', 'Pro', 'Ultra', 'Heritage', 'Urban', 'Coastal', 'Nordic', 'Signature', 'Travel', 'Weekend'
] as const;

export const COLOURS = [
  'Black', 'Navy', 'Sand', 'Olive', 'Charcoal', 'Sage', 'Rust', 'Ivory', 'Slate', 'Forest Green', 'Terracotta', 'Sky Blue'
] as const;

export const PRODUCT_BENEFITS = [
  'Built to last and easy to care for.',
  'A customer favourite for everyday use.',
  'Designed in-house and tested for months before launch.',
  'Thoughtfully packed in plastic-free packaging.',
  'Backed by our two-year warranty.',
  'Makes a great gift.',
  'Small-batch production for consistent quality.',
  'Light enough to take anywhere.'
] as const;
