#!/usr/bin/env python3
"""Write a benchmark CSV: N rows x 8 columns of mixed types with Vietnamese text.

    python3 bench/gen_csv.py ROWS > file.csv

Columns: integer id, 5-digit commune code, Vietnamese name, date dd/mm/yyyy,
amount in Vietnamese number form "1.234,56" (quoted), integer count, boolean
có/không, and a note that is sometimes quoted with commas, quotes or a line break.
Deterministic (fixed seed).
"""
import random
import sys


def main():
    n = int(sys.argv[1])
    rng = random.Random(42)
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Hoàng Văn Đức",
             "Vũ Thị Hà", "Đặng Minh Khoa", "Bùi Thị Lan", "Đỗ Văn Long", "Hồ Thị Mai"]
    notes = ["Nhãn lồng Hưng Yên", "chuối tiêu hồng", '"gà đồi, loại 1"', '"ghi chú ""đặc biệt"""', "",
             '"Hợp tác xã Phố Hiến\nchi nhánh 2"']
    codes = ["11953", "11977", "11980", "12031", "12034", "12040", "12064", "12073"]
    out = sys.stdout
    out.write("Mã số,Mã xã,Họ và tên,Ngày đăng ký,Doanh thu (triệu đồng),Số lao động,Có xuất khẩu,Ghi chú\n")
    buf = []
    for i in range(1, n + 1):
        amt = rng.randint(0, 99999999)
        whole = f"{amt // 100:,}".replace(",", ".")
        buf.append(f"{i},{rng.choice(codes)},{rng.choice(names)},{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/"
                   f"{rng.randint(2000, 2025)},\"{whole},{amt % 100:02d}\",{rng.randint(0, 500)},"
                   f"{'có' if rng.random() < 0.5 else 'không'},{rng.choice(notes)}\n")
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
