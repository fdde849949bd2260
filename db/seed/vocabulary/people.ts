/** Names and places for demo customers. Invented combinations; phone numbers use the fictional 555-01xx range. */

export const FIRST_NAMES = [
  'Emma', 'Liam', 'Olivia', 'Noah', 'Ava', 'Elijah', 'Sophia', 'James', 'Isabella', 'William',
  'Mia', 'Benjamin', 'Charlotte', 'Lucas', 'Amelia', 'Henry', 'Harper', 'Theodore', 'Evelyn', 'Jack',
  'Abigail', 'Levi', 'Emily', 'Alexander', 'Ella', 'Jackson', 'Elizabeth', 'Mateo', 'Camila', 'Daniel',
  'Luna', 'Michael', 'Sofia', 'Mason', 'Avery', 'Sebastian', 'Mila', 'Ethan', 'Aria', 'Logan',
  'Scarlett', 'Owen', 'Penelope', 'Samuel', 'Layla', 'Jacob', 'Chloe', 'Asher', 'Victoria', 'Aiden',
  'Madison', 'John', 'Eleanor', 'Joseph', 'Grace', 'Wyatt', 'Nora', 'David', 'Riley', 'Leo',
  'Zoey', 'Luke', 'Hannah', 'Julian', 'Hazel', 'Hudson', 'Lily', 'Grayson', 'Ellie', 'Matthew',
  'Violet', 'Ezra', 'Lillian', 'Gabriel', 'Zoe', 'Carter', 'Stella', 'Isaac', 'Aurora', 'Jayden',
  'Natalie', 'Anthony', 'Emilia', 'Dylan', 'Everly', 'Lincoln', 'Leah', 'Thomas', 'Aubrey', 'Maverick',
  'Willow', 'Elias', 'Addison', 'Josiah', 'Lucy', 'Charles', 'Audrey', 'Caleb', 'Bella', 'Christopher',
  'Nova', 'Miles', 'Paisley', 'Isaiah', 'Claire', 'Andrew', 'Skylar', 'Joshua', 'Isla', 'Nathan',
  'Naomi', 'Adrian', 'Elena', 'Priya', 'Arjun', 'Wei', 'Mei', 'Hiroshi', 'Yuki', 'Fatima',
  'Omar', 'Amara', 'Kwame', 'Santiago', 'Valentina', 'Diego', 'Lucía', 'Mohammed', 'Aisha', 'Ravi',
  'Ananya', 'Jin', 'Seo-yeon', 'Chidi', 'Zanele', 'Mateus', 'Inés', 'Björn', 'Freya', 'Olga'
] as const;

export const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Gomez', 'Phillips', 'Evans', 'Turner', 'Diaz', 'Parker', 'Cruz', 'Edwards', 'Collins', 'Reyes',
  'Stewart', 'Morris', 'Morales', 'Murphy', 'Cook', 'Rogers', 'Gutierrez', 'Ortiz', 'Morgan', 'Cooper',
  'Peterson', 'Bailey', 'Reed', 'Kelly', 'Howard', 'Ramos', 'Kim', 'Cox', 'Ward', 'Richardson',
  'Watson', 'Brooks', 'Chavez', 'Wood', 'Bennett', 'Gray', 'Mendoza', 'Ruiz', 'Hughes', 'Price',
  'Alvarez', 'Castillo', 'Sanders', 'Patel', 'Myers', 'Long', 'Ross', 'Foster', 'Jimenez', 'Powell',
  'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Bell', 'Coleman', 'Butler', 'Henderson', 'Barnes', 'Chen',
  'Wang', 'Singh', 'Kowalski', 'Novak', "O'Brien", 'Schmidt', 'Müller', 'Rossi', 'Dubois', 'Tanaka',
  'Sato', 'Okafor', 'Mensah', 'Haddad', 'Ivanova', 'Larsen', 'Costa', 'Silva', 'Kaur', 'Nakamura'
] as const;

export interface City {
  name: string;
  region: string;
  zipPrefix: string;
  areaCode: string;
  /** Relative share of customers. */
  weight: number;
}

export const CITIES: readonly City[] = [
  { name: 'New York', region: 'NY', zipPrefix: '100', areaCode: '212', weight: 9 },
  { name: 'Los Angeles', region: 'CA', zipPrefix: '900', areaCode: '213', weight: 7 },
  { name: 'Chicago', region: 'IL', zipPrefix: '606', areaCode: '312', weight: 5 },
  { name: 'Houston', region: 'TX', zipPrefix: '770', areaCode: '713', weight: 4 },
  { name: 'Phoenix', region: 'AZ', zipPrefix: '850', areaCode: '602', weight: 3 },
  { name: 'Philadelphia', region: 'PA', zipPrefix: '191', areaCode: '215', weight: 3 },
  { name: 'San Antonio', region: 'TX', zipPrefix: '782', areaCode: '210', weight: 2 },
  { name: 'San Diego', region: 'CA', zipPrefix: '921', areaCode: '619', weight: 3 },
  { name: 'Dallas', region: 'TX', zipPrefix: '752', areaCode: '214', weight: 3 },
  { name: 'Austin', region: 'TX', zipPrefix: '787', areaCode: '512', weight: 3 },
  { name: 'Jacksonville', region: 'FL', zipPrefix: '322', areaCode: '904', weight: 2 },
  { name: 'San Jose', region: 'CA', zipPrefix: '951', areaCode: '408', weight: 2 },
  { name: 'Columbus', region: 'OH', zipPrefix: '432', areaCode: '614', weight: 2 },
  { name: 'Charlotte', region: 'NC', zipPrefix: '282', areaCode: '704', weight: 2 },
  { name: 'Indianapolis', region: 'IN', zipPrefix: '462', areaCode: '317', weight: 2 },
  { name: 'San Francisco', region: 'CA', zipPrefix: '941', areaCode: '415', weight: 3 },
  { name: 'Seattle', region: 'WA', zipPrefix: '981', areaCode: '206', weight: 3 },
  { name: 'Denver', region: 'CO', zipPrefix: '802', areaCode: '303', weight: 3 },
  { name: 'Nashville', region: 'TN', zipPrefix: '372', areaCode: '615', weight: 2 },
  { name: 'Portland', region: 'OR', zipPrefix: '972', areaCode: '503', weight: 2 },
  { name: 'Boston', region: 'MA', zipPrefix: '021', areaCode: '617', weight: 3 },
  { name: 'Atlanta', region: 'GA', zipPrefix: '303', areaCode: '404', weight: 3 },
  { name: 'Miami', region: 'FL', zipPrefix: '331', areaCode: '305', weight: 3 },
  { name: 'Minneapolis', region: 'MN', zipPrefix: '554', areaCode: '612', weight: 2 },
  { name: 'Detroit', region: 'MI', zipPrefix: '482', areaCode: '313', weight: 2 },
  { name: 'Salt Lake City', region: 'UT', zipPrefix: '841', areaCode: '801', weight: 1 },
  { name: 'Raleigh', region: 'NC', zipPrefix: '276', areaCode: '919', weight: 1 },
  { name: 'Kansas City', region: 'MO', zipPrefix: '641', areaCode: '816', weight: 1 },
  { name: 'Pittsburgh', region: 'PA', zipPrefix: '152', areaCode: '412', weight: 1 },
  { name: 'Sacramento', region: 'CA', zipPrefix: '958', areaCode: '916', weight: 1 },
  { name: 'Orlando', region: 'FL', zipPrefix: '328', areaCode: '407', weight: 1 },
  { name: 'Tampa', region: 'FL', zipPrefix: '336', areaCode: '813', weight: 1 },
  { name: 'St. Louis', region: 'MO', zipPrefix: '631', areaCode: '314', weight: 1 },
  { name: 'Baltimore', region: 'MD', zipPrefix: '212', areaCode: '410', weight: 1 },
  { name: 'Milwaukee', region: 'WI', zipPrefix: '532', areaCode: '414', weight: 1 },
  { name: 'Albuquerque', region: 'NM', zipPrefix: '871', areaCode: '505', weight: 1 },
  { name: 'Tucson', region: 'AZ', zipPrefix: '857', areaCode: '520', weight: 1 },
  { name: 'Omaha', region: 'NE', zipPrefix: '681', areaCode: '402', weight: 1 },
  { name: 'Madison', region: 'WI', zipPrefix: '537', areaCode: '608', weight: 1 },
  { name: 'Boise', region: 'ID', zipPrefix: '837', areaCode: '208', weight: 1 }
];

export const STREET_NAMES = [
  'Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Main', 'Sunset', 'River',
  'Highland', 'Willow', 'Meadow', 'Church', 'Spring', 'Forest', 'Ridge', 'Chestnut', 'Walnut', 'Lincoln',
  'Jefferson', 'Franklin', 'Madison', 'Adams', 'Harbor', 'Mill', 'Orchard', 'Prospect'
] as const;

export const STREET_SUFFIXES = ['St', 'Ave', 'Rd', 'Blvd', 'Ln', 'Dr', 'Way', 'Ct', 'Pl'] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example', 'inbox.example'] as const;

export const ACQUISITION_SOURCES: ReadonlyArray<readonly [string, number]> = [
  ['organic_search', 30], ['paid_search', 18], ['instagram', 14], ['referral', 10], ['newsletter', 8],
  ['tiktok', 8], ['marketplace', 7], ['store', 5]
];

export const CUSTOMER_NOTES = [
  'Prefers delivery after 5pm on weekdays.',
  'Leave parcels with the building concierge.',
  'Asked not to receive phone calls; email only.',
  'Buys gifts every December, likes gift wrapping.',
  'Had a damaged delivery last year, handle with care.',
  'Wholesale enquiry pending, interested in bulk pricing.',
  'Gate code needed for deliveries, ask before shipping.',
  'Very happy with the loyalty programme, happy to review products.',
  'Prefers eco-friendly packaging, no plastic fillers.',
  'Speaks Spanish, English replies are fine too.'
] as const;
