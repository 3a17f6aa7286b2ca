"""A set with inline_support.csv read the second way: each of its rows becomes a detail row too, and the levels are
re-derived from the rows (a point with a detail is 2), so the same essays can be measured under both readings.

    python docs/labelling/second_reading.py data/blind32 /tmp/blind32_inline
    python -m app.cli evaluate --data /tmp/blind32_inline --held-out
"""
import csv, shutil, sys, collections
src, dst = sys.argv[1], sys.argv[2]
shutil.rmtree(dst, ignore_errors=True); shutil.copytree(src, dst)
rows = list(csv.DictReader(open(f'{src}/sentences.csv', newline='', encoding='utf-8')))
inline = list(csv.DictReader(open(f'{src}/inline_support.csv', newline='', encoding='utf-8')))
have = {(r['essay_id'], r['start'], r['end'], r['factor'], r['role']) for r in rows}
added = [dict(essay_id=i['essay_id'], start=i['start'], end=i['end'], factor=i['factor'], role='detail', text=i['text'])
         for i in inline if (i['essay_id'], i['start'], i['end'], i['factor'], 'detail') not in have]
with open(f'{dst}/sentences.csv', 'w', newline='', encoding='utf-8') as h:
    w = csv.DictWriter(h, fieldnames=list(rows[0].keys()), lineterminator='\r\n'); w.writeheader(); w.writerows(rows + added)
F = ['general_secretary', 'luck', 'trotsky_weaknesses', 'testament', 'alliances']
roles = collections.defaultdict(set)
for r in rows + added: roles[(r['essay_id'], r['factor'])].add(r['role'])
labs = list(csv.DictReader(open(f'{src}/labels.csv', newline='', encoding='utf-8')))
changed = 0
for l in labs:
    for f in F:
        rs = roles[(l['essay_id'], f)]
        new = '0' if 'point' not in rs else '2' if 'detail' in rs else '1'
        changed += new != l[f]; l[f] = new
with open(f'{dst}/labels.csv', 'w', newline='', encoding='utf-8') as h:
    w = csv.DictWriter(h, fieldnames=list(labs[0].keys()), lineterminator='\r\n'); w.writeheader(); w.writerows(labs)
print(f'{len(added)} inline rows added as detail; {changed} levels changed (1 -> 2)')
