-- One vocabulary: an organization is `organization` wherever the mirror names a kind of record
-- (Affinity's v2 API says `company`; that word stays at the API's edge). The journal's record
-- names (`company:201`) follow.
UPDATE lists SET kind = 'organization' WHERE kind = 'company';
UPDATE fields SET entity_kind = 'organization' WHERE entity_kind = 'company';
UPDATE list_entries SET entity_kind = 'organization' WHERE entity_kind = 'company';
UPDATE field_values SET owner = 'organization' WHERE owner = 'company';
UPDATE events SET record = 'organization:' || substr(record, 9) WHERE record LIKE 'company:%';
