select victim_id, relationship
from {{ source('raw', 'cvip_offender_relationships') }}
